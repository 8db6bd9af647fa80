/* SPDX-License-Identifier: MIT */
/******************************************************************************
 * lexer.h
 *
 * What the comment scanner must get right.
 *
 * Copyright (c) 2024, A. Widget <widget@example.org>
 */

#ifndef __XEN_PUBLIC_LEXER_H__
#define __XEN_PUBLIC_LEXER_H__

/* A string literal holding comment syntax is not a comment. */
#define WIDGET_NAME     "widget */ /* // not a comment"
#define WIDGET_QUOTE    '"'   /* A char literal: '"' does not open a string. */
#define WIDGET_APOS     '\''  /* Nor does an escaped apostrophe. */

// A C99 comment,
// and another on the next line: together they are one block.
#define WIDGET_C99      1

/* First of two comments on one line. */ /* Second. */
#define WIDGET_TWO      2

#define WIDGET_LONG(a, b)  \
    ((a) + /* a comment inside the body */ \
     (b))                  /* Sum: trailing the last line of a define. */

#define WIDGET_SPACE (x)   /* Object-like: a space before the parenthesis. */

// A continued C99 comment \
   still the same comment
#define WIDGET_CONT     3

/*
 * <script>alert("not escaped here")</script> & <b>bold</b>: comment text is
 * passed on unchanged; escaping is the renderer's job.
 *
 * A second paragraph.
 */
#define WIDGET_HTML     4

/* ` enum widget_flag { */
#define WIDGET_FLAG_a   5  /* The markup comment above is not documentation. */
/* ` } */

/* This comment has code after it on its last line. */ int widget_after;
#define WIDGET_AFTER    6

#if defined(__XEN__) || defined(__XEN_TOOLS__)
/*
 * #define WIDGET_COMMENTED 7 is inside a comment: no definition.
 */
#define WIDGET_TOOLS    8  /* Conditional: inside an #if block. */
#endif

  /* An indented comment without a star column:
       its second line is indented deeper,
     and the third is not. */
#define WIDGET_INDENT   9

#endif /* __XEN_PUBLIC_LEXER_H__ */
