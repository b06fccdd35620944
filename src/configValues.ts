// The shapes of environment variables (lists, buckets, windows, proxies) that config.ts reads.
import { z } from 'zod';

export const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
export const optionalUrl = z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional());
export const limit = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
export const commaList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );
/** OpenTelemetry's lists of "key=value" pairs separated by commas (values may be percent-encoded). */
export const keyValueList = /^(\s*[^\s=,]+\s*=[^,]*(,|$))*$/;
/** A leaky bucket as "capacity/restore rate per second", e.g. "1000/50". */
export const bucket = (fallback: string) =>
  z
    .string()
    .regex(/^\d+\/\d+(\.\d+)?$/, 'capacity/restore-rate-per-second, such as 1000/50')
    .default(fallback)
    .transform((value) => {
      const [capacity, restoreRate] = value.split('/').map(Number) as [number, number];
      return { capacity, restoreRate };
    })
    .refine(({ capacity, restoreRate }) => capacity > 0 && restoreRate > 0, 'capacity and restore rate above 0');
/** A throttle's fixed window as "points/seconds", e.g. "10/3600" for 10 an hour. */
export const window = (fallback: string) =>
  z
    .string()
    .regex(/^[1-9]\d*\/[1-9]\d*$/, 'points/seconds, such as 10/3600')
    .default(fallback)
    .transform((value) => {
      const [points, seconds] = value.split('/').map(Number) as [number, number];
      return { points, seconds };
    });
/** Express's `trust proxy`: false, a hop count, or addresses/subnets/names such as "loopback, 10.0.0.0/8". */
export const trustProxy = z
  .string()
  .default('false')
  .transform((value): boolean | number | string[] => {
    if (value === 'false' || value === '') return false;
    if (/^\d+$/.test(value)) return Number(value);
    return value.split(',').map((item) => item.trim());
  });
