/**
 * Configuration: the settings and their defaults (`config.ts`), and the loader that merges defaults <
 * config file < SIPLET_* environment < flags and validates the result (`load-config.ts`). Every problem
 * is reported as a `SipletError` whose message names the setting and what to set.
 */
export { crossCheck, DEFAULT_CONFIG, describeType, readSetting, SETTINGS, SETTINGS_BY_KEY } from './config.js';
export type { LogFormat, ReadResult, SettingKey, SettingSpec, SettingType, SipletConfig, Trying100 } from './config.js';
export { closest, CONFIG_ENV, CONFIG_FLAG, createConfig, DEFAULT_CONFIG_FILE, loadConfig } from './load-config.js';
export type { ConfigFileReader, LoadConfigOptions, LoadedConfig, SettingOrigin } from './load-config.js';
export { readFileIfExists } from './read-file-if-exists.js';
export { settingsHelp, settingsMarkdown } from './settings-help.js';
