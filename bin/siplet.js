#!/usr/bin/env node
// The `siplet` command: runs the compiled CLI (npm run build first; npm start does both).
let cli;
try {
  cli = await import('../dist/src/cli/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli/main.js')) {
    process.stderr.write('siplet: not built yet. Run "npm run build" (or "npm start", which builds first).\n');
    process.exit(2);
  }
  throw error;
}
process.exitCode = await cli.main(process.argv.slice(2));
// After a clean close nothing should hold the loop open; if something does, do not hang.
setTimeout(() => process.exit(process.exitCode), 2000).unref();
