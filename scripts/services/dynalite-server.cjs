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

require('dynalite/cli.js');
