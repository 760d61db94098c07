import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The build output (ui/dist) is Tauri's frontendDist; fonts come from the repository's assets/.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2021', chunkSizeWarningLimit: 900 },
  server: { port: 5173, strictPort: true, fs: { allow: ['..'] } },
  test: { include: ['src/**/*.test.ts'] },
});
