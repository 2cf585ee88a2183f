/**
 * `npm run bench`: runs every benchmark module in bench/ (each exports `run(): Promise<void>` and prints its figures)
 * in a fixed order, or only those named on the command line: `npm run bench -- apiserver proxy`.
 */
import { existsSync } from 'node:fs';

const SUITES = [
  'store',
  'apiserver',
  'protobuf',
  'proxy-render',
  'proxy',
  'controllers',
  'kubelet',
  'cluster',
  'dns',
] as const;

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const selected = wanted.length > 0 ? SUITES.filter((s) => wanted.includes(s)) : SUITES;
  for (const name of selected) {
    const file = new URL(`./${name}.ts`, import.meta.url);
    if (!existsSync(file)) continue;
    const module = (await import(file.href)) as { run?: () => Promise<void> };
    if (typeof module.run !== 'function') {
      process.stdout.write(`# ${name}: no run() exported, skipped\n`);
      continue;
    }
    process.stdout.write(`\n## ${name}\n`);
    const started = performance.now();
    await module.run();
    process.stdout.write(`# ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
}

await main();
