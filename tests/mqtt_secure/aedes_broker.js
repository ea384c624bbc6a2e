#!/usr/bin/env node
// A second MQTT broker for edgeferry's tests: aedes (a Node.js broker, not
// mosquitto) with MQTT over WebSockets, because Debian's mosquitto is built
// without them. Listeners, all on 127.0.0.1:
//
//   --tcp PORT             plain MQTT (for the test's own subscriber)
//   --ws PORT              MQTT over WebSockets
//   --wss PORT             MQTT over WebSockets over TLS (needs --cert/--key)
//   --path /mqtt           the only HTTP path that is upgraded (default /mqtt);
//                          any other path is refused, so a test proves the
//                          client asked for the configured one
//   --cert FILE --key FILE server certificate and key for --wss
//
// Prints "ready" (one line) once every listener accepts, and one line per
// client connect/disconnect for the test logs. Stops on SIGTERM/SIGINT.
'use strict'

const fs = require('fs')
const http = require('http')
const https = require('https')
const net = require('net')
const aedes = require('aedes')()
const { WebSocketServer, createWebSocketStream } = require('ws')

function parseArgs (argv) {
  const o = { path: '/mqtt' }
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '')
    if (!['tcp', 'ws', 'wss', 'path', 'cert', 'key'].includes(key) || argv[i + 1] === undefined) {
      console.error(`usage: aedes_broker.js [--tcp P] [--ws P] [--wss P] [--path /p] [--cert F --key F] (bad: ${argv[i]})`)
      process.exit(2)
    }
    o[key] = argv[i + 1]
  }
  return o
}

const opts = parseArgs(process.argv.slice(2))
const HOST = '127.0.0.1'
const listening = []

function listen (server, port, what) {
  listening.push(new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(Number(port), HOST, () => {
      console.log(`${what} listening on ${HOST}:${port}`)
      resolve()
    })
  }))
}

// Upgrades only opts.path; the MQTT bytes then flow through a duplex stream.
function attachWebSocket (server) {
  const wss = new WebSocketServer({ server, path: opts.path })
  wss.on('connection', (ws) => {
    const stream = createWebSocketStream(ws)
    stream.on('error', () => stream.destroy())
    aedes.handle(stream)
  })
}

if (opts.tcp) listen(net.createServer(aedes.handle), opts.tcp, 'mqtt')
if (opts.ws) {
  const server = http.createServer((req, res) => { res.writeHead(404); res.end() })
  attachWebSocket(server)
  listen(server, opts.ws, 'ws')
}
if (opts.wss) {
  if (!opts.cert || !opts.key) {
    console.error('--wss needs --cert and --key')
    process.exit(2)
  }
  const server = https.createServer({
    cert: fs.readFileSync(opts.cert),
    key: fs.readFileSync(opts.key)
  }, (req, res) => { res.writeHead(404); res.end() })
  server.on('tlsClientError', (err) => console.log(`tls error: ${err.message}`))
  attachWebSocket(server)
  listen(server, opts.wss, 'wss')
}

aedes.on('client', (c) => console.log(`client connected ${c.id}`))
aedes.on('clientDisconnect', (c) => console.log(`client disconnected ${c.id}`))
aedes.on('clientError', (c, err) => console.log(`client error ${c.id}: ${err.message}`))

Promise.all(listening).then(() => console.log('ready'), (err) => {
  console.error(`cannot listen: ${err.message}`)
  process.exit(1)
})

function stop () {
  aedes.close(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
