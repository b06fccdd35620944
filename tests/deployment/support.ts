// Shared readers for the deployment tests: the repository's files, the configuration keys of src/config.ts, and
// small parsers for the Dockerfile, env files and nginx.conf.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const repoPath = (...parts: string[]) => path.join(root, ...parts);
export const readRepoFile = (...parts: string[]) => readFileSync(repoPath(...parts), 'utf8');

/** Every YAML document of a file (a manifest may hold several, separated by ---). */
export function readYamlDocuments(file: string): any[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { merge: true })
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as unknown;
    })
    .filter((doc) => doc != null);
}

export const readYaml = (file: string): any => parseYaml(readFileSync(file, 'utf8'), { merge: true });

/**
 * The environment variables src/config.ts reads: the keys of its zod schema object. Read from the source, so a
 * variable added there is known here at once; the sanity test below checks that the parse still finds them.
 */
export function configKeys(source = readRepoFile('src/config.ts')): Set<string> {
  const start = source.indexOf('const schema = z.object({');
  if (start < 0) throw new Error('src/config.ts: `const schema = z.object({` not found');
  const end = source.indexOf('\n});', start);
  const body = source.slice(start, end < 0 ? undefined : end);
  return new Set([...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*)\s*:/gm)].map((m) => m[1]!));
}

/** Variables whose values are secrets: they come from a Secret (Kubernetes) or an env file (compose), never inline. */
export const SECRET_KEYS = new Set([
  'DATABASE_URL',
  'DATABASE_REPLICA_URLS',
  'REDIS_URL',
  'JWT_SECRET',
  'JWT_PREVIOUS_KEYS',
  'PAYMENT_WEBHOOK_SECRET',
  'ADMIN_PASSWORD',
  'SMTP_URL',
  'METRICS_TOKEN',
  'OTEL_EXPORTER_OTLP_HEADERS',
]);

/** A generated value, as `openssl rand -hex 32` gives. */
export const generatedSecret = () => randomBytes(32).toString('hex');

/** KEY=value lines of an env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq < 1) throw new Error(`not a KEY=value line: ${line}`);
    env[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return env;
}

/** HTTP paths the app registers on express (`app.get('/healthz', ...)` and the like), from src. */
export function appRoutes(): Set<string> {
  const routes = new Set<string>();
  for (const file of sourceFiles(repoPath('src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.(?:get|post|use|all)\(\s*'(\/[^']*)'/g)) routes.add(m[1]!);
  }
  return routes;
}

/** The .ts files under a directory that ship with the app: tests excluded. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(c|m)?ts$/.test(name) && !/\.test\.(c|m)?ts$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

export interface DockerInstruction {
  keyword: string;
  args: string;
}
export interface DockerStage {
  from: string;
  name: string | null;
  instructions: DockerInstruction[];
}
export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
}

/** Instructions grouped by stage; line continuations joined, comments dropped. */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const result: Dockerfile = { globalArgs: {}, stages: [] };
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, from = '', name = null] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      result.stages.push({ from, name, instructions: [] });
    } else if (!result.stages.length) {
      if (upper === 'ARG') {
        const [name = '', value = ''] = args.split('=');
        result.globalArgs[name.trim()] = value.trim();
      }
    } else {
      result.stages.at(-1)!.instructions.push({ keyword: upper, args });
    }
  }
  return result;
}

/** The directives of a block of nginx.conf (`upstream agora`, `location = /graphql`), as text without comments. */
export function nginxBlock(conf: string, header: RegExp): string | null {
  const text = conf.replace(/#[^\n]*/g, '');
  const match = header.exec(text);
  if (!match) return null;
  let depth = 0;
  const open = text.indexOf('{', match.index);
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  return null;
}

/** Kubernetes quantities in base units: "500m" → 0.5, "512Mi" → 536870912, "1" → 1. */
export function quantity(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value);
  if (!m) throw new Error(`not a quantity: ${value}`);
  const factor: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(m[1]) * (m[2] ? factor[m[2]]! : 1);
}
