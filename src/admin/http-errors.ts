import type { ErrorRequestHandler, Response } from 'express';
import { SipletError, type Logger, type SipletErrorCode } from '../util/index.js';

/** Every admin API error answer: `{ "error": { "code", "message", "details"? } }`. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: Readonly<Record<string, unknown>> };
}

/** The HTTP status of each error code the admin API answers with; anything else is a 500. */
const STATUS: Partial<Record<SipletErrorCode, number>> = {
  SIPLET_ADMIN_UNAUTHORIZED: 401,
  SIPLET_ADMIN_FORBIDDEN: 403,
  SIPLET_ADMIN_CSRF_REJECTED: 403,
  SIPLET_ADMIN_RATE_LIMITED: 429,
  SIPLET_ADMIN_BAD_REQUEST: 400,
  SIPLET_ADMIN_NOT_FOUND: 404,
  SIPLET_DAR_INVALID: 400,
  SIPLET_DAR_UNAVAILABLE: 409,
  SIPLET_DEPLOY_FAILED: 400,
  SIPLET_STORE_INVALID_INPUT: 400,
  SIPLET_STORE_UNKNOWN_REALM: 404,
  SIPLET_STORE_UNKNOWN_USER: 404,
  SIPLET_STORE_DUPLICATE_REALM: 409,
  SIPLET_STORE_DUPLICATE_USER: 409,
};

/** Codes whose `details` are shown to the client (they hold what to fix, never a secret). */
const SHOWN_DETAILS = new Set<SipletErrorCode>(['SIPLET_DAR_INVALID', 'SIPLET_DEPLOY_FAILED']);

/** The HTTP status for an error the admin API caught. */
export function httpStatusOf(error: unknown): number {
  if (!SipletError.is(error)) return 500;
  if (error.code === 'SIPLET_DEPLOY_FAILED' && error.details?.['notFound'] === true) return 404;
  const status = error.details?.['httpStatus'];
  if (typeof status === 'number') return status;
  return STATUS[error.code] ?? 500;
}

export function sendError(res: Response, status: number, code: SipletErrorCode, message: string, details?: Readonly<Record<string, unknown>>): void {
  const body: ErrorBody = { error: details === undefined ? { code, message } : { code, message, details } };
  res.status(status).json(body);
}

/** A `SIPLET_ADMIN_BAD_REQUEST` naming what to fix. */
export function badRequest(message: string, httpStatus = 400): SipletError {
  return new SipletError('SIPLET_ADMIN_BAD_REQUEST', message, { details: { httpStatus } });
}

interface MulterLikeError {
  name: string;
  code: string;
  field?: string;
}

interface BodyParserError {
  type: string;
  status?: number;
}

/**
 * The one place admin API errors become answers: `SipletError`s by their code (`STATUS`), the body
 * parsers' and multer's errors as 400/413 saying what to send, anything else as a logged 500
 * that gives nothing away.
 */
export function adminErrorHandler(log: Logger, limits: { maxUploadBytes: number; maxBodyBytes: number }): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (res.headersSent) return;
    if (SipletError.is(error)) {
      const status = httpStatusOf(error);
      if (status >= 500) log.error({ err: error }, 'admin API request failed');
      const details = SHOWN_DETAILS.has(error.code) ? withoutHttpStatus(error.details) : undefined;
      sendError(res, status, error.code, error.message, details);
      return;
    }
    const multer = error as MulterLikeError;
    if (multer?.name === 'MulterError') {
      if (multer.code === 'LIMIT_FILE_SIZE') {
        sendError(res, 413, 'SIPLET_ADMIN_BAD_REQUEST', `The archive is larger than ${limits.maxUploadBytes} bytes (--archive-max-size): make it smaller or raise the limit.`);
      } else if (multer.code === 'LIMIT_UNEXPECTED_FILE') {
        sendError(res, 400, 'SIPLET_ADMIN_BAD_REQUEST', `Unexpected file field "${multer.field ?? ''}": send one .sar archive in the multipart field named "archive".`);
      } else {
        sendError(res, 400, 'SIPLET_ADMIN_BAD_REQUEST', `The upload is malformed (${multer.code}): send one .sar archive in the multipart field named "archive".`);
      }
      return;
    }
    const parser = error as BodyParserError;
    if (typeof parser?.type === 'string' && typeof parser.status === 'number' && parser.status < 500) {
      if (parser.type === 'entity.too.large') {
        sendError(res, 413, 'SIPLET_ADMIN_BAD_REQUEST', `The request body is larger than ${limits.maxBodyBytes} bytes: send less.`);
      } else if (parser.type === 'entity.parse.failed') {
        sendError(res, 400, 'SIPLET_ADMIN_BAD_REQUEST', 'The request body is not valid JSON: send a JSON object with the fields the route takes.');
      } else {
        sendError(res, 400, 'SIPLET_ADMIN_BAD_REQUEST', `The request body cannot be read (${parser.type}): send UTF-8 JSON.`);
      }
      return;
    }
    if (error instanceof Error && error.message.startsWith('Multipart:')) {
      sendError(res, 400, 'SIPLET_ADMIN_BAD_REQUEST', `The upload is malformed (${error.message}): send one .sar archive in the multipart field named "archive".`);
      return;
    }
    log.error({ err: error }, 'admin API request failed unexpectedly');
    sendError(res, 500, 'SIPLET_INTERNAL', 'The admin API failed unexpectedly; the server log has the details. Report it with the log lines around it.');
  };
}

function withoutHttpStatus(details: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, unknown>> | undefined {
  if (details === undefined) return undefined;
  const { httpStatus: _ignored, ...rest } = details;
  return rest;
}
