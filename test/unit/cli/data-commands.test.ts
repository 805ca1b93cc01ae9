import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliOptions } from '../../../src/cli/main.js';
import type { PasswordInput } from '../../../src/cli/read-password.js';
import { ha1, openDataStore, type Binding } from '../../../src/store/index.js';
import { createLogger, silentLogger } from '../../../src/util/index.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'siplet-cli-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A terminal on standard input: records raw mode, and types `keys` once reading starts. */
class FakeTty extends EventEmitter implements PasswordInput {
  readonly isTTY = true;
  readonly modes: boolean[] = [];
  readonly #typing: string[];
  constructor(...typing: string[]) {
    super();
    this.#typing = typing;
  }
  setRawMode(mode: boolean): this {
    this.modes.push(mode);
    return this;
  }
  resume(): this {
    const keys = this.#typing.shift();
    if (keys !== undefined) setImmediate(() => this.emit('data', Buffer.from(keys)));
    return this;
  }
  pause(): this {
    return this;
  }
}

function harness(dataDir: string, stdin?: PasswordInput) {
  const out: string[] = [];
  const err: string[] = [];
  const run = (...argv: string[]): Promise<number> => {
    out.length = 0;
    err.length = 0;
    const options: CliOptions = {
      argv,
      env: { SIPLET_DATA: dataDir },
      cwd: dataDir,
      readFile: () => undefined,
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
      stdin: stdin ?? Readable.from([]),
      createLogger: () => createLogger({ level: 'silent' }),
    };
    return runCli(options);
  };
  return { run, out: () => out.join(''), err: () => err.join('') };
}

const stdinLine = (text: string): PasswordInput => Readable.from([Buffer.from(text)]);

describe('siplet realms', () => {
  it('adds, lists and removes realms in <dataDir>/siplet.db (SIPLET_DATA)', async () => {
    const dir = tempDir();
    const cli = harness(dir);
    expect(await cli.run('realms', 'list')).toBe(0);
    expect(cli.err()).toContain('no realms yet');
    expect(await cli.run('realms', 'add', 'Example.COM')).toBe(0);
    expect(cli.out()).toBe('realm example.com added\n');
    expect(readdirSync(dir)).toContain('siplet.db');
    expect(await cli.run('realms', 'add', 'other.example')).toBe(0);
    expect(await cli.run('realms', 'list')).toBe(0);
    expect(cli.out()).toBe('example.com\t0 users\nother.example\t0 users\n');
    expect(await cli.run('realms', 'remove', 'other.example')).toBe(0);
    expect(cli.out()).toBe('realm other.example removed\n');
  });

  it('takes --data (and --data=) over SIPLET_DATA', async () => {
    const env = tempDir();
    const flag = tempDir();
    const cli = harness(env);
    expect(await cli.run('realms', 'add', 'example.com', '--data', flag)).toBe(0);
    expect(await cli.run('realms', 'list', `--data=${flag}`)).toBe(0);
    expect(cli.out()).toBe('example.com\t0 users\n');
    expect(readdirSync(env)).not.toContain('siplet.db');
  });

  it('refuses a duplicate or unknown realm with exit 1, a malformed one and bad usage with exit 2', async () => {
    const cli = harness(tempDir());
    await cli.run('realms', 'add', 'example.com');
    expect(await cli.run('realms', 'add', 'example.com')).toBe(1);
    expect(cli.err()).toBe('siplet realms: The realm example.com exists already.\n');
    expect(await cli.run('realms', 'remove', 'nope.example')).toBe(1);
    expect(cli.err()).toBe('siplet realms: There is no realm nope.example. Add it first: siplet realms add nope.example.\n');
    expect(await cli.run('realms', 'add', 'bad realm!')).toBe(2);
    expect(cli.err()).toMatch(/^siplet realms: "bad realm!" is not a realm/);
    expect(await cli.run('realms', 'add')).toBe(2);
    expect(cli.err()).toContain('an argument is missing');
    expect(await cli.run('realms', 'frobnicate')).toBe(2);
    expect(cli.err()).toContain('unknown action "frobnicate"');
    expect(await cli.run('realms', 'list', '--sip-port', '5070')).toBe(2);
    expect(cli.err()).toContain('unknown option --sip-port');
    expect(await cli.run('realms')).toBe(2);
    expect(await cli.run('realms', '--help')).toBe(0);
    expect(cli.out()).toContain('siplet realms add <realm>');
  });

  it('is listed in siplet --help', async () => {
    const cli = harness(tempDir());
    expect(await cli.run('--help')).toBe(0);
    expect(cli.out()).toContain('siplet realms add|list|remove');
    expect(cli.out()).toContain('siplet users add|remove|passwd <user@realm>');
  });
});

describe('siplet users', () => {
  it('adds a user with the password read as one line from a pipe, storing only its HA1 hashes', async () => {
    const dir = tempDir();
    await harness(dir).run('realms', 'add', 'example.com');
    const cli = harness(dir, stdinLine('s3cret pass\r\nnext line ignored\n'));
    expect(await cli.run('users', 'add', 'alice@example.com', '--roles', 'admin,operator')).toBe(0);
    expect(cli.out()).toBe('user alice@example.com added with roles admin, operator\n');
    const store = openDataStore(dir, silentLogger());
    expect(store.users.credentials('example.com', 'alice')).toEqual({
      username: 'alice',
      realm: 'example.com',
      ha1Md5: ha1('MD5', 'alice', 'example.com', 's3cret pass'),
      ha1Sha256: ha1('SHA-256', 'alice', 'example.com', 's3cret pass'),
      roles: ['admin', 'operator'],
    });
    await store.close();
    expect(await cli.run('users', 'list')).toBe(0);
    expect(cli.out()).toBe('alice@example.com\tadmin,operator\n');
  });

  it('prompts on a terminal without echo, asks twice, and restores the terminal', async () => {
    const dir = tempDir();
    await harness(dir).run('realms', 'add', 'example.com');
    const tty = new FakeTty('hunter2\r', 'hunter2\r');
    const cli = harness(dir, tty);
    expect(await cli.run('users', 'add', 'bob@example.com')).toBe(0);
    expect(cli.err()).toBe('Password for bob@example.com: \nAgain: \n');
    expect(cli.out()).toBe('user bob@example.com added\n');
    expect(cli.out() + cli.err()).not.toContain('hunter2');
    expect(tty.modes).toEqual([true, false, true, false]);
  });

  it('handles Backspace at the prompt; refuses two different passwords with exit 1, Ctrl-C with 130', async () => {
    const dir = tempDir();
    await harness(dir).run('realms', 'add', 'example.com');
    const mismatch = harness(dir, new FakeTty('one\r', 'two\r'));
    expect(await mismatch.run('users', 'add', 'carol@example.com')).toBe(1);
    expect(mismatch.err()).toContain('the two passwords differ');
    expect(await harness(dir, new FakeTty('abc\u0003')).run('users', 'add', 'carol@example.com')).toBe(130);
    expect(await harness(dir, new FakeTty('pa\u007fw\r', 'pw\r')).run('users', 'add', 'carol@example.com')).toBe(0);
    const store = openDataStore(dir, silentLogger());
    expect(store.users.credentials('example.com', 'carol')?.ha1Md5).toBe(ha1('MD5', 'carol', 'example.com', 'pw'));
    await store.close();
  });

  it('refuses an empty password, and no input at all, with exit 2', async () => {
    const dir = tempDir();
    await harness(dir).run('realms', 'add', 'example.com');
    const empty = harness(dir, stdinLine('\n'));
    expect(await empty.run('users', 'add', 'dave@example.com')).toBe(2);
    expect(empty.err()).toBe('siplet users: The password is empty: give a non-empty password.\n');
    const closed = harness(dir, Readable.from([]));
    expect(await closed.run('users', 'add', 'dave@example.com')).toBe(2);
    expect(closed.err()).toContain('no password given');
    const emptyTty = harness(dir, new FakeTty('\r'));
    expect(await emptyTty.run('users', 'add', 'dave@example.com')).toBe(2);
    expect(await harness(dir).run('users', 'list', 'example.com')).toBe(0);
  });

  it('refuses an unknown realm, a duplicate user and a malformed address before asking for a password', async () => {
    const dir = tempDir();
    await harness(dir).run('realms', 'add', 'example.com');
    await harness(dir, stdinLine('pw\n')).run('users', 'add', 'alice@example.com');
    const tty = new FakeTty('never read\r');
    const cli = harness(dir, tty);
    expect(await cli.run('users', 'add', 'alice@nope.example')).toBe(1);
    expect(cli.err()).toBe('siplet users: There is no realm nope.example. Add it first: siplet realms add nope.example.\n');
    expect(await cli.run('users', 'add', 'alice@example.com')).toBe(1);
    expect(cli.err()).toBe('siplet users: The user alice exists already in the realm example.com. Change the password with: siplet users passwd alice@example.com.\n');
    expect(await cli.run('users', 'add', 'alice')).toBe(2);
    expect(cli.err()).toContain('is not user@realm');
    expect(await cli.run('users', 'passwd', 'bob@example.com')).toBe(1);
    expect(cli.err()).toContain('There is no user bob in the realm example.com');
    expect(tty.modes).toEqual([]);
  });

  it('changes a password and removes a user', async () => {
    const dir = tempDir();
    await harness(dir).run('realms', 'add', 'example.com');
    await harness(dir, stdinLine('old\n')).run('users', 'add', 'alice@example.com');
    const passwd = harness(dir, stdinLine('new\n'));
    expect(await passwd.run('users', 'passwd', 'alice@example.com')).toBe(0);
    expect(passwd.out()).toBe('password of alice@example.com changed\n');
    const store = openDataStore(dir, silentLogger());
    expect(store.users.credentials('example.com', 'alice')?.ha1Sha256).toBe(ha1('SHA-256', 'alice', 'example.com', 'new'));
    await store.close();
    const cli = harness(dir);
    expect(await cli.run('users', 'remove', 'alice@example.com')).toBe(0);
    expect(cli.out()).toBe('user alice@example.com removed\n');
    expect(await cli.run('users', 'remove', 'alice@example.com')).toBe(1);
    expect(await cli.run('users', 'list', 'nope.example')).toBe(1);
    expect(await cli.run('realms', 'list')).toBe(0);
    expect(cli.out()).toBe('example.com\t0 users\n');
  });

  it('removing a realm removes its users', async () => {
    const dir = tempDir();
    await harness(dir).run('realms', 'add', 'example.com');
    await harness(dir, stdinLine('pw\n')).run('users', 'add', 'alice@example.com');
    const cli = harness(dir);
    expect(await cli.run('realms', 'remove', 'example.com')).toBe(0);
    expect(cli.out()).toBe('realm example.com removed, with its 1 user\n');
    expect(await cli.run('users', 'list')).toBe(0);
    expect(cli.out()).toBe('');
  });
});

describe('siplet registrations', () => {
  it('lists and removes current registrations', async () => {
    const dir = tempDir();
    const store = openDataStore(dir, silentLogger());
    const now = Date.now();
    const b = (uri: string): Binding => ({ aor: 'sip:alice@example.com', uri, contact: `<${uri}>;q=0.5`, expires: now + 600_000, q: 0.5, callId: 'c', cseq: 1, path: [], updatedAt: now });
    await store.location.put(b('sip:alice@10.0.0.1'));
    await store.location.put(b('sip:alice@10.0.0.2'));
    await store.close();
    const cli = harness(dir);
    expect(await cli.run('registrations', 'list')).toBe(0);
    expect(cli.out()).toMatch(/^sip:alice@example.com\t<sip:alice@10.0.0.\d>;q=0.5\texpires in (600|599) s\n/);
    expect(cli.out().split('\n')).toHaveLength(3);
    expect(await cli.run('registrations', 'remove', 'sip:alice@example.com', 'sip:alice@10.0.0.1')).toBe(0);
    expect(cli.out()).toBe('1 registration removed\n');
    expect(await cli.run('registrations', 'remove', 'sip:alice@example.com', 'sip:alice@10.0.0.1')).toBe(1);
    expect(await cli.run('registrations', 'remove', 'sip:alice@example.com')).toBe(0);
    expect(cli.out()).toBe('1 registration removed\n');
    expect(await cli.run('registrations', 'list', 'sip:alice@example.com')).toBe(0);
    expect(cli.err()).toBe('no registrations\n');
    expect(await cli.run('registrations', 'list', 'tel:+1555')).toBe(2);
  });

  it('reports a data directory it cannot use with exit 1', async () => {
    const dir = tempDir();
    const cli = harness(join(dir, 'siplet.db-is-not', '\u0000bad'));
    expect(await cli.run('realms', 'list')).toBe(1);
    expect(cli.err()).toMatch(/^siplet realms: Cannot open the data store/);
  });
});
