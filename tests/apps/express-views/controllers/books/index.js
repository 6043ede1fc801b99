'use strict'

const books = require('./books.json')

exports.list = (req, res) => res.render('books', { books })
exports.show = (req, res, next) => {
  const book = books[req.params.id]
  if (!book) return next()
  res.json(book)
}
