export { buildProgram } from './program.js';
export { cliReference } from './reference.js';
