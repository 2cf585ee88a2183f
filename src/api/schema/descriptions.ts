import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Descriptions of types and fields for OpenAPI (`kubectl explain`), read at run time from the doc comments of the
 * `kubernetes-types` package's declaration files (which carry upstream's API documentation), so that no upstream
 * prose is kept in this repository. A type or field the package does not know (newer than its release) simply has
 * no description.
 */
export interface TypeDescription {
  description?: string;
  fields: Map<string, string>;
}

/** Descriptions caches the parsed declaration files of one process; build one and share it. */
export class Descriptions {
  #files = new Map<string, Map<string, TypeDescription>>();
  #root: string | undefined;

  constructor(root?: string) {
    this.#root = root;
  }

  /** of returns the description of a message (full protobuf name, e.g. `k8s.io.api.core.v1.Service`), if known. */
  of(messageName: string): TypeDescription | undefined {
    const place = declarationFile(messageName);
    if (!place) return undefined;
    return this.#file(place.file)?.get(place.type);
  }

  #file(file: string): Map<string, TypeDescription> | undefined {
    let parsed = this.#files.get(file);
    if (parsed) return parsed;
    let text: string;
    try {
      text = readFileSync(join(this.#packageRoot(), file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    parsed = parseDeclarations(text);
    this.#files.set(file, parsed);
    return parsed;
  }

  #packageRoot(): string {
    this.#root ??= dirname(createRequire(import.meta.url).resolve('kubernetes-types/package.json'));
    return this.#root;
  }
}

/** declarationFile maps a message to its kubernetes-types file and type name. */
function declarationFile(messageName: string): { file: string; type: string } | undefined {
  const dot = messageName.lastIndexOf('.');
  const pkg = messageName.slice(0, dot);
  const type = messageName.slice(dot + 1);
  const api = /^k8s\.io\.api\.([a-z0-9]+)\.(v[a-z0-9]+)$/.exec(pkg);
  if (api) return { file: `${api[1]}/${api[2]}.d.ts`, type };
  const files: Record<string, string> = {
    'k8s.io.apimachinery.pkg.apis.meta.v1': 'meta/v1.d.ts',
    'k8s.io.apimachinery.pkg.api.resource': 'api/resource.d.ts',
    'k8s.io.apimachinery.pkg.runtime': 'runtime.d.ts',
    'k8s.io.apimachinery.pkg.util.intstr': 'util/intstr.d.ts',
  };
  return files[pkg] ? { file: files[pkg], type } : undefined;
}

/** parseDeclarations reads `/** doc *\/ export interface X { /** doc *\/ field?: T; }` shapes out of a .d.ts file. */
export function parseDeclarations(text: string): Map<string, TypeDescription> {
  const out = new Map<string, TypeDescription>();
  let comment: string | undefined;
  let current: TypeDescription | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith('/**')) {
      const body: string[] = [];
      let j = i;
      for (; j < lines.length; j++) {
        body.push(lines[j]!);
        if (lines[j]!.includes('*/')) break;
      }
      i = j;
      comment = cleanComment(body.join('\n'));
      continue;
    }
    const decl = /^export (?:interface|type) (\w+)/.exec(line);
    if (decl) {
      const entry: TypeDescription = { fields: new Map() };
      if (comment) entry.description = comment;
      out.set(decl[1]!, entry);
      current = line.startsWith('export interface') && line.endsWith('{') ? entry : undefined;
    } else if (current) {
      const field = /^(?:readonly )?["']?([\w$.-]+)["']?\??:/.exec(line);
      if (field && comment) current.fields.set(field[1]!, comment);
      if (line === '}') current = undefined;
    }
    comment = undefined;
  }
  return out;
}

function cleanComment(raw: string): string {
  return raw
    .replace(/^\s*\/\*\*\s?/, '')
    .replace(/\s*\*\/\s*$/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}
