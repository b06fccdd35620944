// Writes docs/permissions.md; with --check, exits 1 when the committed file differs from what would be written.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { permissionsDocPath, renderPermissionsDoc } from './permissionsDoc.js';

const relative = path.relative(process.cwd(), permissionsDocPath);
const expected = renderPermissionsDoc();

if (process.argv.includes('--check')) {
  let actual: string | null = null;
  try {
    actual = readFileSync(permissionsDocPath, 'utf8');
  } catch {
    // missing: reported below
  }
  if (actual !== expected) {
    console.error(
      `${relative} is ${actual === null ? 'missing' : 'out of date'}: run \`npm run docs:permissions\` and commit it.`,
    );
    process.exit(1);
  }
  console.log(`${relative} is up to date.`);
} else {
  mkdirSync(path.dirname(permissionsDocPath), { recursive: true });
  writeFileSync(permissionsDocPath, expected);
  console.log(`Wrote ${relative}.`);
}
