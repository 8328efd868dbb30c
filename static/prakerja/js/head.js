/* Loaded in <head> before the page paints: styles for "JavaScript on" apply at once.
   A file, not an inline script: the Content-Security-Policy allows scripts from this site only. */
document.documentElement.className = "js";
