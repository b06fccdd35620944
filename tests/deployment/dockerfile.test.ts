// Dockerfile and .dockerignore: a multi-stage build whose final stage holds production dependencies only, runs as
// a non-root user with a health check, and ships what the app reads at run time; and a scan of the app's imports
// proving that production dependencies are enough (no import resolves to a devDependency).
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  appRoutes,
  parseDockerfile,
  readRepoFile,
  repoPath,
  root,
  sourceFiles,
  type Dockerfile,
  type DockerStage,
} from './support.js';

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const pkg = JSON.parse(readRepoFile('package.json')) as PackageJson;
const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
const dockerignore = readRepoFile('.dockerignore');
const routes = appRoutes();

const args = (stage: DockerStage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const runs = (stage: DockerStage) => args(stage, 'RUN').join('\n');
const PROD_INSTALL = /\bnpm\s+(ci|install|i)\b[^\n&;|]*--omit[= ]dev\b|\bnpm\s+prune\b[^\n&;|]*--omit[= ]dev\b/;
const ANY_INSTALL = /\bnpm\s+(ci|install|i)\b/;
const ANY_INSTALL_ALL = new RegExp(ANY_INSTALL.source, 'g');

/** The image a stage starts from, following FROM <earlier stage> and ${ARG} defaults. */
function baseImage(df: Dockerfile, stage: DockerStage): string {
  const from = stage.from.replace(/\$\{?(\w+)\}?/g, (_, name: string) => df.globalArgs[name] ?? '');
  const parent = df.stages.find((s) => s.name === from);
  return parent && parent !== stage ? baseImage(df, parent) : from;
}

/** Paths the runtime reads besides src/: the SDL and the migrations, located relative to the source files. */
const RUNTIME_DIRS = ['schema', 'prisma'];

function dockerfileProblems(df: Dockerfile, ignore: string): string[] {
  const problems: string[] = [];
  const fail = (message: string) => problems.push(message);
  if (df.stages.length < 2) fail('Dockerfile: not multi-stage');
  const final = df.stages.at(-1)!;
  const stageNamed = (name: string) => df.stages.find((s) => s.name === name);

  const base = baseImage(df, final);
  const node = /^node:(\d+)(\.[\d.]+)?-(bookworm|trixie)-slim$/.exec(base);
  if (!node) fail(`Dockerfile: final image ${base} is not a Debian-slim Node image`);
  else if (Number(node[1]) < 20 || Number(node[1]) % 2) fail(`Dockerfile: Node ${node[1]} is not an LTS line >= 20`);

  // Non-root, with a health check on a real route, and the signal the app drains on.
  const user = args(final, 'USER').at(-1);
  if (!user || /^(root|0)(:|$)/.test(user)) fail(`Dockerfile: final stage runs as ${user ?? 'root'}`);
  const userIndex = final.instructions.findIndex((i) => i.keyword === 'USER');
  const cmdIndex = final.instructions.findIndex((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT');
  if (cmdIndex >= 0 && userIndex > cmdIndex) fail('Dockerfile: USER comes after CMD');
  const healthcheck = args(final, 'HEALTHCHECK').join(' ');
  if (!healthcheck) fail('Dockerfile: no HEALTHCHECK in the final stage');
  else {
    if (/\b(curl|wget)\b/.test(healthcheck) || !/"node"|\bnode\b/.test(healthcheck)) {
      fail('Dockerfile: HEALTHCHECK must use node (slim images have no curl)');
    }
    const route = /\/(healthz|readyz)\b/.exec(healthcheck)?.[0];
    if (!route || !routes.has(route)) fail('Dockerfile: HEALTHCHECK does not call a route of the app');
  }
  if (!args(final, 'STOPSIGNAL').includes('SIGTERM')) fail('Dockerfile: no STOPSIGNAL SIGTERM');
  const env = args(final, 'ENV').join(' ');
  if (!/\bNODE_ENV=production\b/.test(env)) fail('Dockerfile: NODE_ENV=production not set');
  const port = /\bPORT=(\d+)/.exec(env)?.[1] ?? '4000';
  if (!args(final, 'EXPOSE').some((e) => e.split(/\s+/).includes(port))) fail(`Dockerfile: port ${port} not exposed`);

  // Production dependencies only: node_modules comes from an --omit=dev install, nothing else installs.
  const copies = args(final, 'COPY');
  const modulesFrom = copies
    .filter((c) => /node_modules/.test(c))
    .map((c) => /--from=(\S+)/.exec(c)?.[1] ?? '(context)');
  if (ANY_INSTALL.test(runs(final)) && !PROD_INSTALL.test(runs(final))) {
    fail('Dockerfile: the final stage installs devDependencies');
  }
  if (!modulesFrom.length && !PROD_INSTALL.test(runs(final))) fail('Dockerfile: no production dependencies installed');
  for (const from of modulesFrom) {
    const stage = stageNamed(from);
    if (!stage) fail(`Dockerfile: node_modules copied from ${from}, not from a stage`);
    else if (!PROD_INSTALL.test(runs(stage)) || (runs(stage).match(ANY_INSTALL_ALL) ?? []).length > 1) {
      fail(`Dockerfile: node_modules copied from stage ${from}, which does not install production dependencies only`);
    }
  }

  // The server (with the generated Prisma client) is compiled once and copied in; the app's files are all there.
  const build = df.stages.find(
    (s) => /\bprisma generate\b/.test(runs(s)) && /\btsc -p tsconfig\.build\.json/.test(runs(s)),
  );
  if (!build) fail('Dockerfile: no stage generates the Prisma client and compiles the server');
  else if (!copies.some((c) => c.includes(`--from=${build.name}`) && c.includes('/app/dist'))) {
    fail('Dockerfile: the final stage does not copy the compiled server (dist/)');
  }
  for (const dir of RUNTIME_DIRS) {
    if (!copies.some((c) => !c.includes('--from=') && c.split(/\s+/).slice(0, -1).includes(dir))) {
      fail(`Dockerfile: ${dir}/ is not copied into the final stage`);
    }
  }
  const cmd = args(final, 'CMD').join(' ');
  if (/\bnpm\b/.test(cmd)) fail('Dockerfile: CMD runs npm (npm start runs prisma generate, a devDependency)');
  if (!/^"?node"?\b/.test(cmd.trim().replace(/^\[/, '')) || !cmd.includes('dist/main.js')) {
    fail('Dockerfile: CMD does not run the compiled server (node dist/main.js)');
  }

  // .dockerignore: deny everything, allow what the Dockerfile copies from the context.
  const rules = ignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (rules[0] !== '*') fail('.dockerignore: does not start by excluding everything (*)');
  const allowed = new Set(rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, '')));
  for (const forbidden of ['.env', 'node_modules', '.data', '.git']) {
    if (allowed.has(forbidden)) fail(`.dockerignore: lets ${forbidden} into the build context`);
  }
  for (const stage of df.stages) {
    for (const copy of args(stage, 'COPY').filter((c) => !c.includes('--from='))) {
      const sources = copy
        .split(/\s+/)
        .filter((t) => !t.startsWith('--'))
        .slice(0, -1);
      for (const source of sources) {
        if (!allowed.has(source.replace(/\/$/, ''))) fail(`.dockerignore: ${source} (copied) is excluded`);
      }
    }
  }
  return problems;
}

describe('Dockerfile', () => {
  test('meets the deployment requirements', () => {
    expect(dockerfileProblems(dockerfile, dockerignore)).toEqual([]);
  });

  const edit = (from: string, to: string) => (text: string) => {
    if (!text.includes(from)) throw new Error(`test edit: ${from} not in the Dockerfile`);
    return text.replace(from, to);
  };
  const breakages: [string, (text: string) => string, RegExp][] = [
    ['a single stage', (t) => `FROM node:22-bookworm-slim\n${t.slice(t.indexOf('ENV NODE_ENV'))}`, /multi-stage/],
    ['root', edit('USER node', 'USER root'), /runs as root/],
    ['no health check', (t) => t.replace(/^HEALTHCHECK[\s\S]*?\n(?=#|CMD)/m, ''), /no HEALTHCHECK/],
    ['curl health check', edit('CMD ["node", "-e"', 'CMD ["curl", "-e"'), /must use node/],
    ['devDependencies', edit('npm ci --omit=dev --ignore-scripts', 'npm ci --ignore-scripts'), /production dep/],
    [
      'modules of the build stage',
      edit('--from=prod-deps /app/node_modules', '--from=build /app/node_modules'),
      /build/,
    ],
    [
      'npm start',
      edit(
        'CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=224", "dist/main.js"]',
        'CMD ["npm", "start"]',
      ),
      /runs npm/,
    ],
    ['no compiled server', (t) => t.replace(/^COPY --from=build .*$/m, ''), /compiled server/],
    ['no migrations', edit('COPY prisma ./prisma\nCOPY schema', 'COPY schema'), /prisma\/ is not copied/],
    ['an old Node', edit('ARG NODE_VERSION=22', 'ARG NODE_VERSION=19'), /Node 19/],
  ];
  test.each(breakages)('catches: %s', (_, breakIt, expected) => {
    const broken = parseDockerfile(breakIt(readRepoFile('Dockerfile')));
    expect(dockerfileProblems(broken, dockerignore).join('\n')).toMatch(expected);
  });

  test('catches a .dockerignore that lets secrets in or keeps sources out', () => {
    expect(dockerfileProblems(dockerfile, `${dockerignore}\n!.env\n`).join('\n')).toMatch(/lets \.env/);
    expect(dockerfileProblems(dockerfile, dockerignore.replace('!schema/', '')).join('\n')).toMatch(/schema/);
    expect(dockerfileProblems(dockerfile, dockerignore.replace(/^\*$/m, '')).join('\n')).toMatch(/excluding/);
  });
});

/** Bare module specifiers a source file loads at run time. `import type` and `export type` are erased; an import
 * with only inline `type` specifiers is kept (verbatimModuleSyntax), so it counts. */
function runtimeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const m of code.matchAll(
    /(?:^|[;}\n])\s*(import|export)\s+(type\s+)?([\w\s{},*$]*?)\s*from\s*['"]([^'"]+)['"]/g,
  )) {
    if (!m[2]) found.push(m[4]!);
  }
  for (const m of code.matchAll(/(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  for (const m of code.matchAll(/\b(?:import|require|require\.resolve)\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

/** The npm package a specifier names, or null for relative paths and Node's built-ins. */
function packageName(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  if (builtinModules.includes(specifier.split('/')[0]!)) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Imports of shipped source files that production dependencies do not provide. */
function unprovidedImports(files: { file: string; source: string }[], manifest: PackageJson): string[] {
  const problems: string[] = [];
  for (const { file, source } of files) {
    for (const specifier of runtimeImports(source)) {
      const name = packageName(specifier);
      if (!name || manifest.dependencies?.[name]) continue;
      problems.push(
        manifest.devDependencies?.[name]
          ? `${file} imports ${specifier}: ${name} is a devDependency, missing from the production image`
          : `${file} imports ${specifier}: ${name} is not a declared dependency`,
      );
    }
  }
  return problems;
}

describe('production dependencies are enough to run the app', () => {
  const shipped = sourceFiles(repoPath('src')).map((file) => ({
    file: path.relative(root, file),
    source: readFileSync(file, 'utf8'),
  }));

  test('scans the whole app', () => {
    const files = shipped.map((s) => s.file);
    expect(files).toContain('src/main.ts');
    expect(files.some((f) => f.endsWith('.test.ts'))).toBe(false);
    expect(shipped.flatMap((s) => runtimeImports(s.source)).map(packageName)).toEqual(
      expect.arrayContaining(['@apollo/server', 'express', 'graphql', 'zod']),
    );
  });

  test('no source file outside the tests imports a devDependency or an undeclared package', () => {
    expect(unprovidedImports(shipped, pkg)).toEqual([]);
  });

  test('the scan finds devDependency imports of every form', () => {
    const source = [
      "import { describe } from 'vitest';",
      "import 'prettier';",
      "export { format } from 'eslint';",
      'import {\n  type Foo,\n} from "typescript";',
      "const codegen = await import('@graphql-codegen/cli');",
      "import type { Config } from 'kubernetes-models';",
      "export type { X } from 'autocannon';",
      "// import { no } from 'prisma';",
      "import { readFileSync } from 'node:fs';",
      "import path from 'path';",
      "import { z } from 'zod';",
      "import { thing } from './local.js';",
      "import { other } from 'left-pad/sub';",
    ].join('\n');
    const problems = unprovidedImports([{ file: 'src/x.ts', source }], pkg);
    expect(problems.map((p) => p.split(': ')[1]!.split(' ')[0])).toEqual([
      'vitest',
      'eslint',
      'typescript',
      'left-pad',
      'prettier',
      '@graphql-codegen/cli',
    ]);
    expect(problems[0]).toMatch(/devDependency/);
    expect(problems.find((p) => p.includes('left-pad'))).toMatch(/not a declared dependency/);
  });
});
