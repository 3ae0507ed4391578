// Copies what tsc does not: the Lua scripts next to the compiled code.
import { cpSync } from 'node:fs';
cpSync('src/commands', 'dist/src/commands', { recursive: true, filter: (src) => !src.endsWith('.ts') });
