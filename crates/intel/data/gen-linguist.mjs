// Regenerates linguist.json from the npm package `linguist-languages` (GitHub Linguist's
// languages.yml as data, MIT). Usage, from this folder:
//   npm pack linguist-languages@<version> && tar xzf linguist-languages-*.tgz
//   node gen-linguist.mjs package > linguist.json
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const dir = path.resolve(process.argv[2] ?? 'package');
const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'))).version;
const all = await import(pathToFileURL(path.join(dir, 'index.js')).href);
const languages = Object.values(all)
  .map((l) => ({
    name: l.name,
    type: l.type,
    ...(l.group ? { group: l.group } : {}),
    ...(l.color ? { color: l.color } : {}),
    aliases: l.aliases ?? [],
    extensions: l.extensions ?? [],
    filenames: l.filenames ?? [],
    interpreters: l.interpreters ?? [],
  }))
  .sort((a, b) => a.name.localeCompare(b.name));
process.stdout.write(JSON.stringify({ source: `linguist-languages@${version}`, languages }) + '\n');
