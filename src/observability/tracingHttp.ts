// Express middleware for tracing: each request's server span (continuing the caller's trace from a W3C
// `traceparent` header), and on /graphql the span of the operation, both active while the request is handled.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';
import { UNNAMED_OPERATION } from './tracingGraphQL.js';

/** Probes and scrapes arrive every few seconds and tell nothing about the API's work. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/** Routes that named themselves (a mounted path has no `req.route`). */
const routes = new WeakMap<Request, string>();

export function httpServerSpans(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    if (UNTRACED.has(req.path)) {
      next();
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'url.path': req.path,
          'url.scheme': req.protocol,
          'network.protocol.version': req.httpVersion,
        },
      },
      parent,
    );
    res.once('close', () => {
      const route = routes.get(req) ?? (req.route as { path?: unknown } | undefined)?.path;
      if (typeof route === 'string') {
        span.setAttribute('http.route', route);
        span.updateName(`${req.method} ${route}`);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    // Everything after runs inside the span: the body parser resumes in the context it was called in (raw-body binds
    // its callback), and the response's `finish` (pino-http's line) comes from the write made inside it.
    context.with(trace.setSpan(parent, span), next);
  };
}

/** On /graphql, after the body is parsed: a span for the operation, which the Apollo plugin names and ends. */
export function operationSpans(tracer: Tracer, claimable: WeakSet<Span>): RequestHandler {
  return (req, res, next) => {
    routes.set(req, req.baseUrl);
    // A batch runs several operations: the plugin gives each a span of its own.
    if (Array.isArray(req.body)) {
      next();
      return;
    }
    const span = tracer.startSpan(UNNAMED_OPERATION, { kind: SpanKind.INTERNAL });
    claimable.add(span);
    // Refused before Apollo began (no plugin will end it): ended with the response.
    res.once('close', () => {
      if (claimable.delete(span)) span.end();
    });
    context.with(trace.setSpan(context.active(), span), next);
  };
}
