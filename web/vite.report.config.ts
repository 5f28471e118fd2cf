/**
 * Build of the standalone report's client script: `npm run build:web` writes dist/report-client/report.js
 * (one IIFE, every dependency bundled) and report.css, which `specimen report` inlines into each HTML file
 * (src/report/html.ts) so a report needs no server and no network.
 */
import path from 'node:path';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: path.resolve(here, '..', 'dist', 'report-client'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    minify: true,
    cssCodeSplit: false,
    lib: {
      entry: path.resolve(here, 'src', 'report', 'main.tsx'),
      formats: ['iife'],
      name: 'SpecimenReport',
      fileName: () => 'report.js',
      cssFileName: 'report',
    },
  },
});
