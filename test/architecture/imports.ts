/**
 * The import rules of the architecture (issue 14, ../shared/style.md "Dependencies point inward"),
 * checked over source text parsed with the TypeScript compiler API, so the same checker runs over
 * the real tree and over a small in-memory example that breaks every rule (proving it can fail).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export type RuleName =
  | 'core-no-adapter'
  | 'core-no-http-framework'
  | 'core-no-chat-sdk'
  | 'core-no-concrete-publisher'
  | 'publishers-no-database'
  | 'publishers-no-chat'
  | 'publishers-no-vault-internals'
  | 'vault-no-publisher'
  | 'platform-literal'
  | 'no-cycle';

/** One import of a source file: a repository path (`src/db/schema.ts`) for local files, else the package name. */
export interface ImportRef {
  readonly target: string;
  /** Erased at compile time: `import type`, every named binding `type`, `export type … from`, `import('…').T`. */
  readonly typeOnly: boolean;
  /** `import('…')` at run time: loaded when called, not when this module loads. */
  readonly dynamic: boolean;
}

export interface SourceFacts {
  readonly file: string;
  readonly imports: readonly ImportRef[];
  /** Every string literal's text (import specifiers excluded), for the platform-literal rule. */
  readonly literals: ReadonlySet<string>;
}

export interface Violation {
  readonly file: string;
  /** What is imported (a repository path or a package name), the literal (`'tiktok'`), or the cycle's next file. */
  readonly target: string;
  readonly rule: RuleName;
}

/** `file -> import (rule)`: how violations are printed and how `KNOWN_VIOLATIONS` names them. */
export function violationKey(v: Violation): string {
  return `${v.file} -> ${v.target} (${v.rule})`;
}

/** Reads every .ts file under the given folders of `root`, keyed by repository path (`src/app.ts`). */
export function readSources(root: string, folders: readonly string[]): Map<string, string> {
  const sources = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) sources.set(rel, readFileSync(path.join(root, rel), 'utf8'));
    }
  };
  for (const folder of folders) if (existsSync(path.join(root, folder))) walk(folder);
  return sources;
}

/** A relative specifier as the repository path it names (NodeNext: `./x.js` is `./x.ts`), or the package name. */
function resolveSpecifier(file: string, specifier: string, known: ReadonlySet<string>): string {
  if (!specifier.startsWith('.')) {
    const parts = specifier.split('/');
    return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
  }
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  const candidates = [joined.replace(/\.js$/, '.ts'), joined.replace(/\.mjs$/, '.mts'), `${joined}.ts`, `${joined}/index.ts`, joined];
  return candidates.find((c) => known.has(c)) ?? joined.replace(/\.js$/, '.ts');
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import './x.js'` runs the module
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    !clause.name &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((e) => e.isTypeOnly)
  );
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** The imports and string literals of one source file. */
export function parseSource(file: string, text: string, known: ReadonlySet<string>): SourceFacts {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const imports: ImportRef[] = [];
  const literals = new Set<string>();
  const specifiers = new Set<ts.Node>();
  const add = (specifier: ts.Expression, typeOnly: boolean, dynamic: boolean): void => {
    if (!ts.isStringLiteralLike(specifier)) return;
    specifiers.add(specifier);
    imports.push({ target: resolveSpecifier(file, specifier.text, known), typeOnly, dynamic });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, isTypeOnlyImport(node), false);
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier) add(node.moduleSpecifier, isTypeOnlyExport(node), false);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression, node.isTypeOnly, false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true, false);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0])
      add(node.arguments[0], false, true);
    else if (ts.isStringLiteralLike(node) && !specifiers.has(node)) literals.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { file, imports, literals };
}

const under = (file: string, folder: string): boolean => file.startsWith(`${folder}/`);
const isPackage = (target: string, names: readonly string[]): boolean =>
  names.some((name) => (name.endsWith('/*') ? target.startsWith(name.slice(0, -1)) : target === name));

const CHAT_SDKS = ['@slack/*', 'discord.js', '@discordjs/*'];
const HTTP_FRAMEWORKS = ['koa', '@koa/*'];
const DATABASES = ['kysely', 'pg', 'better-sqlite3'];
/** What the vault lets others see: its token types (TokenSet, TokenRefreshError, TokenRefresher). */
const VAULT_PUBLIC = ['src/vault/tokens.ts'];

/** The layer rules one import breaks. */
function importRules(file: string, ref: ImportRef): RuleName[] {
  const { target } = ref;
  const broken: RuleName[] = [];
  if (under(file, 'src/core')) {
    if (['src/bots', 'src/http', 'src/sandbox'].some((folder) => under(target, folder))) broken.push('core-no-adapter');
    if (isPackage(target, HTTP_FRAMEWORKS)) broken.push('core-no-http-framework');
    if (isPackage(target, CHAT_SDKS)) broken.push('core-no-chat-sdk');
    const allowedPublisher = target === 'src/publishers/publisher.ts' || (target === 'src/publishers/registry.ts' && ref.typeOnly);
    if (under(target, 'src/publishers') && !allowedPublisher) broken.push('core-no-concrete-publisher');
  }
  if (under(file, 'src/publishers')) {
    if (under(target, 'src/db') || isPackage(target, DATABASES)) broken.push('publishers-no-database');
    if (under(target, 'src/bots') || target === 'src/core/ports/chat.ts' || isPackage(target, CHAT_SDKS)) broken.push('publishers-no-chat');
    if (under(target, 'src/vault') && !VAULT_PUBLIC.includes(target)) broken.push('publishers-no-vault-internals');
  }
  if (under(file, 'src/vault') && under(target, 'src/publishers')) broken.push('vault-no-publisher');
  return broken;
}

/**
 * Where a platform's id may be written as a string literal: its own folder under src/publishers/
 * (and a folder its modules share with others: meta/ for Facebook and Instagram), the registry, the
 * simulators (fake platforms by nature), and the core's platform list.
 */
function literalAllowed(file: string, platform: string, sharedFolders: Readonly<Record<string, readonly string[]>>): boolean {
  const folders = [`src/publishers/${platform}`, ...(sharedFolders[platform] ?? []), 'src/simulators'];
  return folders.some((folder) => under(file, folder)) || file === 'src/publishers/registry.ts' || file === 'src/core/ports/platforms.ts';
}

/**
 * Edges of static run-time imports between src files that lie on a cycle (both ends in one strongly
 * connected component). Type-only imports are erased by the compiler and `import()` loads lazily,
 * after both modules have finished loading, so neither can make a module see another half-loaded.
 */
function cycleEdges(facts: readonly SourceFacts[]): Violation[] {
  const graph = new Map<string, string[]>();
  for (const f of facts) {
    const targets = f.imports.filter((i) => !i.typeOnly && !i.dynamic && under(i.target, 'src')).map((i) => i.target);
    graph.set(f.file, [...new Set(targets)]);
  }
  // Tarjan's strongly connected components (recursive: the import chains are a few dozen deep).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const component = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let counter = 0;
  let components = 0;
  const strongConnect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
        onStack.delete(w);
        component.set(w, components);
        if (w === v) break;
      }
      components += 1;
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) strongConnect(v);
  const sizes = new Map<number, number>();
  for (const c of component.values()) sizes.set(c, (sizes.get(c) ?? 0) + 1);
  const violations: Violation[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const c = component.get(from);
      const onCycle = to === from || (c !== undefined && c === component.get(to) && (sizes.get(c) ?? 0) > 1);
      if (onCycle) violations.push({ file: from, target: to, rule: 'no-cycle' });
    }
  }
  return violations;
}

export interface CheckOptions {
  /** The platform ids ('facebook', 'instagram', 'x', 'tiktok'). */
  readonly platforms: readonly string[];
  /** Publisher folders a platform shares with others, where its id may be written too. */
  readonly sharedFolders?: Readonly<Record<string, readonly string[]>>;
}

/** Every violation of the rules in the given sources (repository path → text), sorted, each once. */
export function checkArchitecture(sources: ReadonlyMap<string, string>, options: CheckOptions): Violation[] {
  const known = new Set(sources.keys());
  const facts = [...sources].filter(([file]) => under(file, 'src')).map(([file, text]) => parseSource(file, text, known));
  const violations: Violation[] = [];
  for (const f of facts) {
    for (const ref of f.imports) for (const rule of importRules(f.file, ref)) violations.push({ file: f.file, target: ref.target, rule });
    for (const platform of options.platforms) {
      if (f.literals.has(platform) && !literalAllowed(f.file, platform, options.sharedFolders ?? {}))
        violations.push({ file: f.file, target: `'${platform}'`, rule: 'platform-literal' });
    }
  }
  violations.push(...cycleEdges(facts));
  const unique = new Map(violations.map((v) => [violationKey(v), v]));
  return [...unique.values()].sort((a, b) => (violationKey(a) < violationKey(b) ? -1 : 1));
}
