'use strict'

const fs = require('fs')
const path = require('path')

// Every folder in `dir` is a controller: its index.js exports handlers by
// name, mounted under /<folder>.
module.exports = function mount(app, dir) {
  app.locals.controllers = []
  for (const name of fs.readdirSync(dir).sort()) {
    if (!fs.statSync(path.join(dir, name)).isDirectory()) continue
    const controller = require(path.join(dir, name))
    app.get('/' + name, controller.list)
    if (controller.show) app.get('/' + name + '/:id', controller.show)
    app.locals.controllers.push(name)
  }
}
