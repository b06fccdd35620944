// What other modules may use of inventory: the stock moves of orders.
export { release, reserve, restock, sell, type StockLine } from './stock.js';
export { InventoryService } from './service.js';
