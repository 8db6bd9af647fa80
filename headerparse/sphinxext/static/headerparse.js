/* headerparse: copy buttons on code, and search results without duplicates.
 *
 * Copy: every code block gets a button that copies its text; a header listing
 * is copied without its line numbers.
 *
 * Search (Sphinx's searchtools.js, on search.html only): one result per place.
 * Sphinx lists a declaration once as an object, again as its index entry and
 * again as a full-text hit of its page; here only the best-ranked result per
 * page and anchor is kept, and a page's anchorless text hit is dropped when a
 * better-ranked result already points into that page. The section that explains
 * a constant comes first because the extension gives it a main index entry
 * (headerparse.sphinxext.searchrank), titled with that section rather than its
 * page. Table cells are kept apart in snippets.
 */
"use strict";

(() => {
  const CODE = "pre.hp-code, pre.hp-pre, pre.hp-source, div.highlight pre";

  const textOf = (pre) => {
    const copy = pre.cloneNode(true);
    copy.querySelectorAll(".hp-lineno, .hp-copy").forEach((e) => e.remove());
    return copy.textContent.replace(/\n$/, "");
  };

  const copyText = (text) => {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try {
      document.execCommand("copy");
    } finally {
      area.remove();
    }
    return Promise.resolve();
  };

  const addCopyButtons = () => {
    document.querySelectorAll(CODE).forEach((pre) => {
      if (pre.parentElement.classList.contains("hp-copy-box")) return;
      const box = document.createElement("div");
      box.className = "hp-copy-box";
      pre.parentElement.insertBefore(box, pre);
      box.appendChild(pre);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "hp-copy";
      button.title = "Copy to clipboard";
      button.setAttribute("aria-label", "Copy to clipboard");
      button.textContent = "Copy";
      button.addEventListener("click", () => {
        copyText(textOf(pre)).then(() => {
          button.textContent = "Copied";
          button.classList.add("hp-copied");
          setTimeout(() => {
            button.textContent = "Copy";
            button.classList.remove("hp-copied");
          }, 1500);
        });
      });
      box.appendChild(button);
    });
  };

  /* ------------------------------------------------------------ search */

  // results: [docname, title, anchor, descr, score, filename, kind]; Sphinx shows
  // the last one first.
  const dedupe = (results) => {
    const seen = new Set();
    const pagesWithAnchors = new Set();
    const kept = [];
    for (let i = results.length - 1; i >= 0; i--) {
      const r = results[i];
      const [doc, , anchor] = r;
      const key = doc + "\u0000" + (anchor || "");
      if (seen.has(key)) continue;
      if (!anchor && pagesWithAnchors.has(doc)) continue;
      seen.add(key);
      if (anchor) pagesWithAnchors.add(doc);
      kept.push(r);
    }
    return kept.reverse();
  };

  // An index entry's result is titled with its page ("sched_op"); the entry of a
  // constant points at the section that explains it, so say which one, as Sphinx
  // does for a section title it finds: "sched_op > SCHEDOP_shutdown".
  let sectionTitles = null;
  const sectionTitle = (doc, anchor) => {
    const index = Search._index;
    if (!index || !index.alltitles || !index.docnames) return null;
    if (sectionTitles === null) {
      sectionTitles = new Map();
      for (const [title, places] of Object.entries(index.alltitles)) {
        for (const [file, id] of places) {
          if (id) sectionTitles.set(index.docnames[file] + "#" + id, [title, file]);
        }
      }
    }
    const hit = sectionTitles.get(doc + anchor);
    return hit ? `${index.titles[hit[1]]} > ${hit[0]}` : null;
  };

  const titleSections = (results) => {
    for (const r of results) {
      if (r[6] === "index" && r[2]) {
        const title = sectionTitle(r[0], r[2]);
        if (title) r[1] = title;
      }
    }
    return results;
  };

  const patchSearch = () => {
    if (typeof Search === "undefined" || Search.hpPatched) return;
    Search.hpPatched = true;
    const perform = Search._performSearch;
    Search._performSearch = (...args) => titleSections(dedupe(perform(...args)));
    const toText = Search.htmlToText;
    if (toText) {
      // Cells and list items run together in textContent: keep them apart.
      Search.htmlToText = (html, anchor) =>
        toText(html.replace(/<\/(td|th|li|dt|dd|p|pre|caption)>/g, " </$1>"), anchor);
    }
  };

  patchSearch();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => {
      patchSearch();
      addCopyButtons();
    });
  } else {
    addCopyButtons();
  }
})();
