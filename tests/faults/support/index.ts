// The fault-injection harness of issue 11 ("every checkout reaches a final state, whatever dies when"): production
// server processes over one PostgreSQL database and one Redis (processes.ts), shoppers driven over HTTP who retry
// like a real client (shoppers.ts), and the invariants every checkout must leave behind (database.ts).
export * from './processes.js';
export * from './database.js';
export * from './shoppers.js';
export * from './deployment.js';
