import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Five pages: the dashboard (index.html), the public grid directory, the
// published star ratings (ratings.html, issue 15), the staff login
// (login.html) and the staff workbench (wb/index.html, issue 16;
// public/wb: its service worker and manifest).
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        directory: resolve(import.meta.dirname, 'directory.html'),
        ratings: resolve(import.meta.dirname, 'ratings.html'),
        wb: resolve(import.meta.dirname, 'wb/index.html'),
        login: resolve(import.meta.dirname, 'login.html'),
      },
    },
  },
});
