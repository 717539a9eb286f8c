// A minimal HTTP endpoint for bench/run-http-sink-bench.sh (Node's built-in http module, no
// packages): answers 204 to every request, counts requests and body bytes, and on SIGTERM
// writes "requests bytes" to the file given as argv[3]. Listens on 127.0.0.1, a free port,
// written to argv[2] once it listens.
'use strict';
const http = require('http');
const fs = require('fs');
let requests = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  req.on('data', (chunk) => { bytes += chunk.length; });
  req.on('end', () => {
    requests++;
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2] + '.tmp', String(server.address().port));
  fs.renameSync(process.argv[2] + '.tmp', process.argv[2]);
});
process.on('SIGTERM', () => {
  fs.writeFileSync(process.argv[3], `${requests} ${bytes}\n`);
  process.exit(0);
});
