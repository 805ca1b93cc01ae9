#!/usr/bin/env node
// Prints the plain line CI looks for — "N passed, N failed" (", N skipped" when some were) — from a
// vitest JSON report, and exits non-zero when any test failed, a test file could not run, or no test ran.
//
//   node scripts/summary.mjs <report.json>                    read an existing report
//   node scripts/summary.mjs <report.json> -- vitest run …    run the command first (the stale report is
//                                                             deleted), then summarise; also non-zero
//                                                             when the command itself failed
// Arguments after the command (npm test -- test/unit/config) go to the command.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [reportPath, separator, command, ...commandArgs] = process.argv.slice(2);
if (!reportPath || (separator !== undefined && separator !== '--') || (separator === '--' && !command)) {
  process.stderr.write('usage: node scripts/summary.mjs <report.json> [-- <command> [args…]]\n');
  process.exit(2);
}

let commandStatus = 0;
if (command) {
  rmSync(reportPath, { force: true });
  commandStatus = await run(command, commandArgs);
}
process.exit(summarise(reportPath, commandStatus));

function run(cmd, args) {
  // npm puts node_modules/.bin on PATH; so does this, for runs outside npm.
  const local = join('node_modules', '.bin', cmd);
  const file = !cmd.includes('/') && existsSync(local) ? local : cmd;
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (error) => {
      process.stderr.write(`summary: cannot run ${cmd}: ${error.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function summarise(path, status) {
  let report;
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    process.stderr.write(`summary: no test report at ${path} (${error.code ?? error.message}); the test run did not finish.\n`);
    process.stdout.write('0 passed, 0 failed\n');
    return status || 1;
  }
  const passed = report.numPassedTests ?? 0;
  const failed = report.numFailedTests ?? 0;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const total = report.numTotalTests ?? passed + failed + skipped;

  // A file that fails to import has no tests in it, so it shows only as a failed suite.
  const brokenFiles = (report.testResults ?? []).filter((file) => file.status === 'failed' && (file.assertionResults ?? []).every((t) => t.status !== 'failed'));
  for (const file of brokenFiles) {
    process.stderr.write(`summary: ${file.name} failed to run: ${String(file.message ?? '').split('\n')[0]}\n`);
  }
  if (total === 0) process.stderr.write('summary: no tests ran.\n');
  if (status !== 0) process.stderr.write(`summary: the test command exited with status ${status}.\n`);

  process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  return failed > 0 || brokenFiles.length > 0 || total === 0 || status !== 0 ? 1 : 0;
}
