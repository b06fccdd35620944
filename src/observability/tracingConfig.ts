// What the OpenTelemetry variables ask for, read without loading the SDK (the logger asks too).
import type { Config } from '../config.js';

export type TracingConfig = Pick<
  Config,
  | 'OTEL_SDK_DISABLED'
  | 'OTEL_TRACES_EXPORTER'
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_HEADERS'
  | 'OTEL_SERVICE_NAME'
  | 'OTEL_RESOURCE_ATTRIBUTES'
  | 'OTEL_TRACES_SAMPLER'
  | 'OTEL_TRACES_SAMPLER_ARG'
>;

export type TracesExporter = 'otlp' | 'console' | 'none';

/** Where spans go. Unlike the SDK's default (otlp to localhost), tracing stays off until something is configured:
 * an OTLP endpoint, or OTEL_TRACES_EXPORTER itself. */
export function tracesExporter(config: Partial<TracingConfig>): TracesExporter {
  if (config.OTEL_SDK_DISABLED) return 'none';
  if (config.OTEL_TRACES_EXPORTER) return config.OTEL_TRACES_EXPORTER;
  return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || config.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none';
}

/** The URL spans are posted to: the traces endpoint as given, or the base endpoint's /v1/traces (the OTLP spec's
 * rule), or a collector on this host. */
export function tracesEndpoint(config: Partial<TracingConfig>): string {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** "key=value,key=value" (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES), values percent-decoded. */
export function keyValuePairs(list: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of list.split(',')) {
    const at = item.indexOf('=');
    if (at <= 0) continue;
    const key = item.slice(0, at).trim();
    const raw = item.slice(at + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // not percent-encoded after all: keep it as written
    }
    if (key) pairs[key] = value;
  }
  return pairs;
}
