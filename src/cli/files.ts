/** Reading the files a command is given: plain files, or folders whose `.json` (or other named) files are read in name order. */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export class InputError extends Error {
  override readonly name = 'InputError';
}

/**
 * Expands folders into the files below them whose names end with one of `extensions` (default
 * `.json`), sorted by path; files named directly are kept as given, whatever their extension.
 */
export async function expandInputs(inputs: readonly string[], extensions: readonly string[] = ['.json']): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      throw new InputError(`cannot read "${input}": no such file or folder`);
    }
    if (info.isDirectory()) {
      const entries = await readdir(input, { recursive: true, withFileTypes: true });
      files.push(
        ...entries
          .filter((entry) => entry.isFile() && extensions.some((extension) => entry.name.endsWith(extension)))
          .map((entry) => path.join(entry.parentPath, entry.name))
          .sort(),
      );
    } else {
      files.push(input);
    }
  }
  return files;
}

/** Reads a file as UTF-8, with an error that names the file instead of a stack trace. */
export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read "${file}"${code === undefined ? '' : ` (${code})`}`);
  }
}
