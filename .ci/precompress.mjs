// Writes <file>.br (brotli, quality 11) and <file>.gz (gzip -9) beside each
// file given, so the server sends compressed assets without compressing per
// request. Node's zlib: no extra tool to install.
import { readFileSync, writeFileSync } from "node:fs";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  const br = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
  console.error(`${file}: ${data.length} B, brotli ${br.length} B`);
}
