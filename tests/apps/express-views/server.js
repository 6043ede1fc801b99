'use strict'

const fs = require('fs')
const path = require('path')
const crypto = require('crypto')
const express = require('express')
const cookieSession = require('cookie-session')
const mount = require('./lib/mount')
const digests = require('./lib/digests')

// Read while the app loads (at build time under fabricks): a config file.
const settings = JSON.parse(fs.readFileSync(path.join(__dirname, 'settings.json'), 'utf8'))

const app = module.exports = express()
app.set('views', path.join(__dirname, 'views'))
app.set('view engine', 'ejs')
app.locals.title = process.env.SHELF_TITLE || 'untitled'

app.use(express.static(path.join(__dirname, 'public')))
app.use(express.urlencoded({ extended: false }))
app.use(cookieSession({ name: 'shelf', secret: settings.secret }))

app.get('/', (req, res) => {
  req.session.visits = (req.session.visits || 0) + 1
  res.render('index', { visits: req.session.visits, controllers: app.locals.controllers })
})

app.get('/about', (req, res) => res.render('about.hbs', { layout: false, motto: settings.motto }))

app.get('/where', (req, res) => {
  res.json({ dirname: __dirname, filename: __filename, cwd: process.cwd(), node_env: process.env.NODE_ENV ?? null })
})

// A package's own file, found at run time as node finds it.
app.get('/packages/:name', (req, res) => {
  const manifest = require.resolve(req.params.name + '/package.json')
  res.json({ manifest, name: require(manifest).name })
})

app.get('/files/*name', (req, res, next) => {
  const file = req.params.name.join('/')
  res.download(file, { root: path.join(__dirname, 'files') }, (err) => {
    if (!err) return
    if (err.status === 404) return next()
    next(err)
  })
})

app.get('/notes/:name', (req, res, next) => {
  fs.readFile(path.join(__dirname, 'files', 'docs', req.params.name + '.md'), 'utf8', (err, text) => {
    if (err) return next(err.code === 'ENOENT' ? undefined : err)
    const html = text.replace(/^# (.*)$/m, '<h1>$1</h1>')
    res.type('html').send(html)
  })
})

app.get('/listing', async (req, res) => {
  const entries = await fs.promises.readdir(path.join(__dirname, 'files'), { withFileTypes: true })
  res.json(entries.map((e) => (e.isDirectory() ? e.name + '/' : e.name)))
})

// A body transformed on its way out, as compression middleware does: by
// replacing res.write.
app.get('/shouted/groceries', (req, res) => {
  const write = res.write
  res.write = (chunk, ...rest) => write.call(res, Buffer.from(String(chunk).toUpperCase()), ...rest)
  res.type('text/plain')
  fs.createReadStream(path.join(__dirname, 'files', 'groceries.txt')).pipe(res)
})

// A file piped out and watched on its way: a 'data' listener added after
// the pipe sees every chunk, and so does the client.
app.get('/stream-watched', (req, res) => {
  res.type('text/plain')
  const stream = fs.createReadStream(path.join(__dirname, 'files', 'big.txt'))
  stream.pipe(res)
  let seen = 0
  stream.on('data', (chunk) => { seen += chunk.length })
  stream.on('end', () => console.log(`stream-watched: the listener saw ${seen} bytes`))
})

app.get('/stream', (req, res) => {
  res.type('text/plain')
  fs.createReadStream(path.join(__dirname, 'files', 'big.txt')).pipe(res)
})

app.post('/uploads/:name', express.text(), (req, res) => {
  fs.writeFileSync(path.join(__dirname, 'uploads', req.params.name), req.body)
  res.status(201).send('stored\n')
})

app.get('/uploads/:name', (req, res) => res.sendFile(req.params.name, { root: path.join(__dirname, 'uploads') }))

app.get('/readonly', (req, res) => {
  try {
    fs.writeFileSync(path.join(__dirname, 'settings.json'), '{}')
    res.send('written')
  } catch (err) {
    res.status(500).send(err.message)
  }
})

app.get('/hash', (req, res, next) => {
  crypto.pbkdf2(req.query.password, 'salt', 100000, 32, 'sha256', (err, key) => {
    if (err) return next(err)
    res.send(key.toString('hex'))
  })
})

app.get('/digests', (req, res) => res.json(digests()))

// Who asked, as node's server says: the connection's address and port
// (Express's req.ip reads it), one socket for the request and response.
app.get('/client', (req, res) => {
  const { remoteAddress, remotePort, remoteFamily } = req.socket
  res.json({ ip: req.ip, remoteAddress, remotePort, remoteFamily, shared: req.socket === res.socket, secure: req.secure })
})

// The request's headers as node's server hands them over: names
// lower-cased, values as latin1 text (node's decoding of header bytes).
app.get('/headers', (req, res) => res.json({ headers: req.headers, raw: req.rawHeaders }))

// Drawn while the app loads, as apps draw a secret: under fabricks the
// callback runs at the first request (bytes drawn at build time would be
// the same in every instance).
let instanceKey = null
crypto.randomBytes(16, (err, bytes) => {
  if (err) throw err
  instanceKey = bytes.toString('hex')
})
app.get('/instance-key', (req, res) => res.send(instanceKey ?? 'none'))

app.get('/boom', () => {
  throw new Error('the shelf collapsed')
})

mount(app, path.join(__dirname, 'controllers'))

if (!module.parent) {
  app.listen(3000)
  console.log('Bookshelf on port %d', 3000)
}
