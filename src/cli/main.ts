#!/usr/bin/env node
console.log('specimen');
