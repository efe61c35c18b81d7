/** The TypeScript files under a folder, recursively: what the source scans (test/source-*.test.ts) read. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}
