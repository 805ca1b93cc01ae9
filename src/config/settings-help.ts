import { DEFAULT_CONFIG, describeType, SETTINGS } from './config.js';
import type { SettingSpec } from './config.js';
import { CONFIG_ENV, CONFIG_FLAG, DEFAULT_CONFIG_FILE } from './load-config.js';

function shownDefault(spec: SettingSpec): string {
  const value = DEFAULT_CONFIG[spec.key];
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  return String(value);
}

/** The settings as `siplet start --help` prints them: flag, variable, default, description. */
export function settingsHelp(): string {
  const rows = SETTINGS.map((spec) => [`${spec.flag} <${spec.type.kind === 'integer' ? 'n' : 'value'}>`, spec.env, shownDefault(spec), spec.description]);
  rows.unshift([`${CONFIG_FLAG} <file>`, CONFIG_ENV, `./${DEFAULT_CONFIG_FILE} if present`, 'JSON config file; keys are the camelCase names.']);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  return rows
    .map((row) => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column] as number) : cell)).join('  '))
    .join('\n');
}

/**
 * The settings as the Markdown table in README.md (between the `config-table` markers);
 * a unit test fails when the README is out of date.
 */
export function settingsMarkdown(): string {
  const lines = [
    '| flag | environment | config-file key | default | accepts | what |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const spec of SETTINGS) {
    lines.push(
      `| \`${spec.flag}\` | \`${spec.env}\` | \`${spec.key}\` | \`${shownDefault(spec)}\` | ${describeType(spec.type)} | ${spec.description.replace(/\|/g, '\\|')} |`,
    );
  }
  return lines.join('\n');
}
