export * from './role-catalogue.js';
