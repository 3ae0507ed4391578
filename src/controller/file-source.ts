import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseResources, type ParsedResources } from '../catalog/resources';

/** Reads every Venue and Event in the YAML files of a folder (multi-document files allowed). */
export async function loadFolder(dir: string): Promise<ParsedResources> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const docs: { where: string; doc: unknown }[] = [];
  const errors: ParsedResources['errors'] = [];
  for (const file of files) {
    const where = path.join(dir, file);
    for (const [i, doc] of parseAllDocuments(await readFile(where, 'utf8')).entries()) {
      if (doc.errors.length > 0) errors.push({ where: `${where}#${i}`, message: doc.errors.map((e) => e.message).join('; ') });
      else if (doc.contents !== null) docs.push({ where: `${where}#${i}`, doc: doc.toJS() });
    }
  }
  const parsed = parseResources(docs);
  parsed.errors.unshift(...errors);
  return parsed;
}

/** Calls `onChange` (debounced) whenever a file in the folder is added, changed or removed. */
export function watchFolder(dir: string, onChange: () => void, debounceMs = 250): FSWatcher {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dir, () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on('close', () => clearTimeout(timer));
  return watcher;
}
