'use strict'

const express = require('express')
const session = require('express-session')

const app = module.exports = express()
app.use(session({ secret: 'not-a-real-secret', resave: false, saveUninitialized: false }))

app.get('/env', (req, res) => res.send(app.get('env')))

app.get('/count', (req, res) => {
  req.session.count = (req.session.count || 0) + 1
  res.send(String(req.session.count))
})

app.get('/boom', () => {
  throw new Error('a secret detail of the failure')
})

app.listen(3000)
