#!/usr/bin/env node
// dynalite's CLI, with its LevelDB iterators closed when a read is done.
//
// dynalite 4 turns abstract-level iterators into streams and closes them from the stream's
// destroy() through `iterator.return()`, a method abstract-level 3 iterators do not have (theirs
// is close()). So every Query, Scan and ListTables left an iterator open, and an open iterator
// pins the LevelDB version it started on: compaction wrote new files but could delete none of
// the old ones. The store grew by hundreds of MiB per seed replay and reset (5.7 GB after about
// twelve) and slowed down until /readyz timed out (docs/performance.md, "Reset"). Giving the
// iterators the `return()` that dynalite calls lets compaction free the space again.
const level = require('abstract-level');

for (const Iterator of [level.AbstractIterator, level.AbstractKeyIterator, level.AbstractValueIterator]) {
  if (typeof Iterator.prototype.return !== 'function') {
    Object.defineProperty(Iterator.prototype, 'return', {
      configurable: true,
      writable: true,
      value: function () {
        return this.close().then(() => ({ done: true, value: undefined }));
      },
    });
  }
}

// dynalite drops a table (DeleteTable) by walking every key of the whole store, keys of every
// other table included, through a stream per sub-database (the table's items, each index, its
// tags), and deleting those that start with the table's prefix. A reset drops an event's tables
// (docs/cqrs.md, "Reset (load tests)"), so that walk, five times over a store of a few hundred
// thousand keys, took 5–11 s of dynalite's one thread. Reading just the sub-database's own key
// range (`<name>~` up to `<name>\x7f`: '~' is 0x7e and table names have no '~') deletes the same
// keys in one batch without touching the rest, then compacts that range.
const store = require('dynalite/db');
const create = store.create;
store.create = function (options) {
  const s = create(options);
  const dropRange = (name, cb) => {
    const [gte, lt] = [`${name}~`, `${name}\x7f`];
    s.db
      .keys({ gte, lt })
      .all()
      .then(
        (keys) =>
          keys.length === 0
            ? cb()
            : s.db.batch(
                keys.map((key) => ({ type: 'del', key })),
                (err) => {
                  cb(err);
                  // Then let LevelDB reclaim the range's files now (in its own thread), not
                  // whenever later writes get compaction to it: the store stays the size of
                  // what it holds across replays and resets.
                  if (!err && typeof s.db.compactRange === 'function') s.db.compactRange(gte, lt).catch(() => undefined);
                },
              ),
        cb,
      );
  };
  s.deleteItemDb = (name, cb) => dropRange(`item-${name}`, cb);
  s.deleteIndexDb = (indexType, tableName, indexName, cb) => dropRange(`index-${indexType.toLowerCase()}~${tableName}~${indexName}`, cb);
  s.deleteTagDb = (name, cb) => dropRange(`tag-${name}`, cb);
  return s;
};

require('dynalite/cli.js');
