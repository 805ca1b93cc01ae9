import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  MinLength,
  ValidateBy,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import type { ListenerKind } from '../../api/index.js';
import { LISTENER_KINDS } from './listener-kinds.js';

/**
 * The deployment descriptor: `siplet.json` in an app folder or at the root of a `.sar` archive
 * (the sip.xml of JSR 289, as JSON). Every field is optional in a folder; an archive needs at
 * least `name`. A field given here overrides what the decorators say. Classes are named by the
 * name the entry module exports them under.
 *
 * ```json
 * {
 *   "name": "echo",
 *   "version": "1.2.0",
 *   "mainServlet": "echo",
 *   "sessionTimeout": 5,
 *   "proxyTimeout": 180,
 *   "initParams": { "greeting": "hello" },
 *   "servlets": [{ "name": "echo", "className": "Echo", "loadOnStartup": 0, "initParams": { "mode": "loud" } }],
 *   "listeners": [{ "className": "Sessions", "kinds": ["applicationSession"] }],
 *   "securityConstraints": [{ "name": "admin", "servletNames": ["echo"], "methods": ["INVITE"], "roles": ["staff"] }],
 *   "http": { "router": "routes" }
 * }
 * ```
 */
export interface DescriptorShape {
  name: string;
  version: string;
  displayName: string;
  description: string;
  mainServlet: string;
  /** Minutes. */
  sessionTimeout: number;
  /** Seconds. */
  proxyTimeout: number;
  distributable: boolean;
  /** Application init parameters (context-param); merged over the decorator's, key by key. */
  initParams: Record<string, string>;
  servlets: DescriptorServlet[];
  listeners: DescriptorListener[];
  /** JSR 289 §20 security constraints, enforced by digest authentication (src/container/auth); replaces the decorator's list. */
  securityConstraints: DescriptorSecurityConstraint[];
  /** HTTP routes of a converged app, mounted under `/<name>/` on the HTTP port; overrides `@SipApplication({ http })`. */
  http: DescriptorHttp;
  /** The realm of the app's digest challenges (RFC 3261 §22.1), e.g. "example.com". */
  realm: string;
}

export interface DescriptorServlet {
  /** Matches a `@Servlet` by name, whose fields this entry overrides; otherwise declares a new servlet. */
  name: string;
  /** The export name of the class. Required for a servlet no decorator declares. */
  className?: string;
  loadOnStartup?: number;
  description?: string;
  /** Merged over the decorator's, key by key. */
  initParams?: Record<string, string>;
}

export interface DescriptorListener {
  /** The export name of the class; `@SipListener` is not needed on it. */
  className: string;
  /** Overrides the decorator's `kinds`. */
  kinds?: ListenerKind[];
}

/** JSR 289 §20.7 security-constraint, as JSON. */
export interface DescriptorSecurityConstraint {
  /** A display name for logs. */
  name?: string;
  /** The servlets it covers (resource collection); empty or absent: every servlet. */
  servletNames?: string[];
  /** The SIP methods it covers; empty or absent: every method (initial requests only; in-dialog ones when listed). */
  methods?: string[];
  /** The roles allowed (auth-constraint); empty or absent: any authenticated user. */
  roles?: string[];
  /** Challenge with 407 (proxy-authentication) rather than 401. */
  proxyAuthentication?: boolean;
  transportGuarantee?: 'NONE' | 'INTEGRAL' | 'CONFIDENTIAL';
}

export interface DescriptorHttp {
  /** The export name, in the entry module, of the app's HTTP router factory `(ctx) => Router` (or an express Router). */
  router: string;
}

/** The top-level fields, in the order messages list them. */
export const DESCRIPTOR_FIELDS = [
  'name',
  'version',
  'displayName',
  'description',
  'mainServlet',
  'sessionTimeout',
  'proxyTimeout',
  'distributable',
  'initParams',
  'servlets',
  'listeners',
  'securityConstraints',
  'http',
  'realm',
] as const satisfies readonly (keyof DescriptorShape)[];

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const METHOD = /^[A-Za-z]+$/;

/** Init parameters: an object whose values are all strings. */
function IsStringRecord(): PropertyDecorator {
  return ValidateBy({
    name: 'isStringRecord',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string'),
      defaultMessage: (args) => {
        const value = args?.value as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object of string values';
        const [key, bad] = Object.entries(value).find(([, v]) => typeof v !== 'string') ?? ['?', undefined];
        return `: "${key}" is ${JSON.stringify(bad)}; init parameters are strings: quote it`;
      },
    },
  });
}

/** A string matching a pattern, with a message saying what the pattern allows. */
function IsNamed(pattern: RegExp, what: string, each = false): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isNamed',
      validator: { validate: (value: unknown) => typeof value === 'string' && pattern.test(value), defaultMessage: () => what },
    },
    { each },
  );
}

const STRING = { message: 'must be a string' };
const NUMBER = { message: 'must be a number' };
const ARRAY_OF = (what: string) => ({ message: `must be an array of ${what}` });

export class ServletDto implements DescriptorServlet {
  @IsString({ message: 'must be a string (the servlet name)' }) @MinLength(1, { message: 'must not be empty' }) name!: string;
  @IsOptional() @IsString(STRING) className?: string;
  @IsOptional() @IsInt({ message: 'must be an integer (0 or more: load at deployment)' }) loadOnStartup?: number;
  @IsOptional() @IsString(STRING) description?: string;
  @IsOptional() @IsStringRecord() initParams?: Record<string, string>;
}

export class ListenerDto implements DescriptorListener {
  @IsString({ message: 'must be a string (the export name of the listener class)' }) className!: string;
  @IsOptional()
  @IsArray(ARRAY_OF(LISTENER_KINDS.map((k) => `"${k}"`).join(', ')))
  @IsIn(LISTENER_KINDS, { each: true, message: `must be an array of ${LISTENER_KINDS.map((k) => `"${k}"`).join(', ')}` })
  kinds?: ListenerKind[];
}

export class SecurityConstraintDto implements DescriptorSecurityConstraint {
  @IsOptional() @IsString(STRING) name?: string;
  @IsOptional() @IsArray(ARRAY_OF('servlet names')) @IsString({ each: true, message: 'must be an array of servlet names' }) servletNames?: string[];
  @IsOptional() @IsArray(ARRAY_OF('SIP methods')) @IsNamed(METHOD, 'must be an array of SIP methods, e.g. ["INVITE", "MESSAGE"]', true) methods?: string[];
  @IsOptional() @IsArray(ARRAY_OF('role names')) @IsString({ each: true, message: 'must be an array of role names' }) roles?: string[];
  @IsOptional() @IsBoolean({ message: 'must be a boolean' }) proxyAuthentication?: boolean;
  @IsOptional() @IsIn(['NONE', 'INTEGRAL', 'CONFIDENTIAL'], { message: 'must be one of "NONE", "INTEGRAL", "CONFIDENTIAL"' })
  transportGuarantee?: 'NONE' | 'INTEGRAL' | 'CONFIDENTIAL';
}

export class HttpDto implements DescriptorHttp {
  @IsString({ message: 'must be a string: the export name of the app\'s HTTP router in its entry module' }) @MinLength(1, { message: 'must not be empty' })
  router!: string;
}

export class DescriptorDto {
  @IsOptional() @IsNamed(APP_NAME, "must be a string of letters, digits, '.', '_' and '-', starting with a letter or digit") name?: string;
  @IsOptional() @IsString(STRING) version?: string;
  @IsOptional() @IsString(STRING) displayName?: string;
  @IsOptional() @IsString(STRING) description?: string;
  @IsOptional() @IsString(STRING) mainServlet?: string;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }, NUMBER) sessionTimeout?: number;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }, NUMBER) proxyTimeout?: number;
  @IsOptional() @IsBoolean({ message: 'must be a boolean' }) distributable?: boolean;
  @IsOptional() @IsStringRecord() initParams?: Record<string, string>;
  @IsOptional() @IsArray(ARRAY_OF('{ "name", "className"?, "loadOnStartup"?, "initParams"? }')) @ValidateNested({ each: true, message: 'must be an object with at least "name"' })
  servlets?: ServletDto[];
  @IsOptional() @IsArray(ARRAY_OF('{ "className", "kinds"? }')) @ValidateNested({ each: true, message: 'must be an object with "className"' })
  listeners?: ListenerDto[];
  @IsOptional() @IsArray(ARRAY_OF('{ "servletNames"?, "methods"?, "roles"? }')) @ValidateNested({ each: true, message: 'must be an object' })
  securityConstraints?: SecurityConstraintDto[];
  @IsOptional() @IsObject({ message: 'must be an object { "router": "<export name>" }' }) @ValidateNested({ message: 'must be an object { "router": "<export name>" }' })
  http?: HttpDto;
  @IsOptional() @IsString(STRING) realm?: string;
}

/** Which DTO class each nested field's objects become before validation. */
const NESTED: Record<string, { dto: new () => object; array: boolean }> = {
  servlets: { dto: ServletDto, array: true },
  listeners: { dto: ListenerDto, array: true },
  securityConstraints: { dto: SecurityConstraintDto, array: true },
  http: { dto: HttpDto, array: false },
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function instance(dto: new () => object, value: Record<string, unknown>): object {
  return Object.assign(new dto(), value);
}

/** The descriptor as DTO instances (class-validator validates class instances, not plain objects). */
function toDto(descriptor: Record<string, unknown>): DescriptorDto {
  const copy: Record<string, unknown> = { ...descriptor };
  for (const [field, { dto, array }] of Object.entries(NESTED)) {
    const value = copy[field];
    if (array && Array.isArray(value)) copy[field] = value.map((entry: unknown) => (isPlainObject(entry) ? instance(dto, entry) : entry));
    else if (!array && isPlainObject(value)) copy[field] = instance(dto, value);
  }
  return instance(DescriptorDto, copy) as DescriptorDto;
}

/**
 * Checks the field names and types of a descriptor that did not come from TypeScript (siplet.json)
 * against the DTO classes above, so that model building can trust them. Each message names the
 * field by its path (`siplet.json "servlets[1].className" must be a string, not 42.`).
 * Cross-references (class names, servlet names) are checked by `buildApplicationModel`.
 */
export function checkDescriptor(descriptor: unknown): string[] {
  if (!isPlainObject(descriptor)) return ['siplet.json must be a JSON object ({ "name": ..., "servlets": [...] }).'];
  const errors = validateSync(toDto(descriptor), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, validationError: { target: false, value: true } });
  return errors.flatMap((error) => messages(error, ''));
}

function messages(error: ValidationError, parent: string): string[] {
  const path = parent === '' ? error.property : /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`;
  const out: string[] = [];
  const constraints = error.constraints ?? {};
  if (constraints['whitelistValidation'] !== undefined) {
    const known = parent === '' ? DESCRIPTOR_FIELDS.join(', ') : knownFieldsAt(parent);
    out.push(`siplet.json${parent === '' ? '' : ` ${parent}`}: unknown field "${error.property}"; the fields are ${known}.`);
  }
  // One message per field: its type check if that failed, else the first other constraint.
  const failed = Object.entries(constraints).filter(([name]) => name !== 'whitelistValidation');
  const first = (failed.find(([name]) => TYPE_CHECKS.has(name)) ?? failed[0])?.[1];
  if (first !== undefined) {
    out.push(first.startsWith(':') ? `siplet.json "${path}"${first}.` : `siplet.json "${path}" ${first}, not ${JSON.stringify(error.value)}.`);
  }
  for (const child of error.children ?? []) out.push(...messages(child, path));
  return out;
}

const TYPE_CHECKS = new Set(['isString', 'isNumber', 'isInt', 'isBoolean', 'isArray', 'isObject', 'isStringRecord', 'isNamed']);

function knownFieldsAt(path: string): string {
  const field = path.replace(/\[\d+\]$/, '');
  const dto = NESTED[field]?.dto;
  return dto === undefined ? '?' : Object.keys(FIELD_NAMES.get(dto) ?? {}).join(', ');
}

const FIELD_NAMES = new Map<new () => object, Record<string, true>>([
  [ServletDto, { name: true, className: true, loadOnStartup: true, description: true, initParams: true }],
  [ListenerDto, { className: true, kinds: true }],
  [SecurityConstraintDto, { name: true, servletNames: true, methods: true, roles: true, proxyAuthentication: true, transportGuarantee: true }],
  [HttpDto, { router: true }],
]);
