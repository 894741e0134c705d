import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ERRORS, OutbandError, type ErrorCode } from '../../domain/errors.ts';

interface ValidationEntry {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function describeValidation(error: FastifyError): string {
  const context = (error as FastifyError & { validationContext?: string }).validationContext ?? 'body';
  const entries = (error.validation ?? []) as ValidationEntry[];
  const parts = entries.slice(0, 5).map((e) => {
    const path = `${context}${(e.instancePath ?? '').replace(/\//g, '.')}`;
    const extra = e.params?.['additionalProperties'] ?? e.params?.['requiredProperties'];
    return `${path} ${e.message ?? 'is not valid'}${extra !== undefined ? ` (${String(extra)})` : ''}`;
  });
  return parts.length > 0 ? parts.join('; ') : error.message;
}

/** Fastify's own 4xx errors, by code, mapped to ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
};

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: OutbandError): FastifyReply {
  const { status, code, detail, extra } = error;
  // Set here as well: the router's own errors (frameworkErrors) answer before any hook runs.
  reply.header('x-request-id', request.id);
  if (typeof extra['retry_after'] === 'number') reply.header('retry-after', String(extra['retry_after']));
  if (code === 'invalid_token') reply.header('www-authenticate', 'Bearer error="invalid_token"');
  if (code === 'insufficient_scope') reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${String(extra['scope'] ?? '')}"`);
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ ...extra, type: `/errors/${code}`, title: ERRORS[code].title, status, code, detail, instance: request.id });
}

/**
 * The problem an error is answered with. Expected errors keep their code and caller-facing
 * detail; anything else is logged in full and becomes a bare 500 that reveals nothing.
 */
export function problemFor(error: FastifyError, request: FastifyRequest): OutbandError {
  if (error instanceof OutbandError) return error;
  if (error.validation !== undefined) return new OutbandError('invalid_request', describeValidation(error));
  const mapped = error.code !== undefined ? FASTIFY_CODES[error.code] : undefined;
  if (mapped !== undefined) {
    const detail = mapped === 'malformed_json' ? `the body is not valid JSON: ${error.message}` : error.message;
    return new OutbandError(mapped, detail);
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return new OutbandError('malformed_json', `the body is not valid JSON: ${error.message}`);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    request.log.info({ code: error.code, status }, 'client error');
    const code: ErrorCode = status === 404 ? 'not_found' : status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
    return new OutbandError(code, error.message);
  }
  request.log.error({ err: error }, 'unexpected error');
  return new OutbandError('internal_error', 'something went wrong on our side; the request id identifies it in our logs');
}

/** Every error becomes problem+json (see problemFor). */
export const problemPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => sendProblem(reply, request, problemFor(error, request)));
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, request, new OutbandError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'outband-problem' },
);
