// Vite's client types: lets the pages import their stylesheets (`import './style.css'`) so that
// Vite bundles them, and a missing one fails the type check and the build.
/// <reference types="vite/client" />
