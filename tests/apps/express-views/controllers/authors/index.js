'use strict'

exports.list = (req, res) => res.json(['Le Guin', 'Butler'])
