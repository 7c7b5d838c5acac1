; C tags (also .h headers), spliced into c.scm and objc.scm (Objective-C's grammar extends
; C's).
; Function definitions (not prototypes), structs, unions and enums with a body, typedefs,
; object-like macros with a value and function-like macros (include guards, which have no
; value, are left out), file-level `const` variables; `#include` paths.
; Alternatives are mutually exclusive: which of two matches on one node comes first is not
; guaranteed.
; Declarator wrappers are wildcards where the field says enough (`(_ declarator: ...)`): a
; step naming a node type with children costs every worker compile time.

; Function definitions: `int f(void)`, `char *f(void)`, `char **f(void)`, and a function
; returning a function pointer, `int (*f(int))(void)`. A statement macro without its `;` in a
; body (`Py_BEGIN_ALLOW_THREADS` on a line of its own) makes the grammar read the next
; `if (x) {...}` as a function `if` returning the macro: no symbol.
((function_definition
  declarator: (function_declarator declarator: (identifier) @name)) @definition.function
  (#not-match? @name "^(if|while|for|switch)$"))
(function_definition
  declarator: [
    (_ declarator: (function_declarator declarator: (identifier) @name) .)
    (_ declarator: (_ declarator: (function_declarator declarator: (identifier) @name) .) .)
  ]) @definition.function
(function_definition
  declarator: (function_declarator
    declarator: (parenthesized_declarator
      (pointer_declarator
        declarator: (function_declarator declarator: (identifier) @name))))) @definition.function

; Tagged structs, unions and enums with a body.
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.union
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum

; `typedef struct {...} point_t;`: an anonymous struct, union or enum named by its typedef.
(type_definition
  type: (struct_specifier !name body: (_))
  declarator: (type_identifier) @name) @definition.struct
(type_definition
  type: (union_specifier !name body: (_))
  declarator: (type_identifier) @name) @definition.union
(type_definition
  type: (enum_specifier !name body: (_))
  declarator: (type_identifier) @name) @definition.enum

; `typedef struct node {...} node_t;`: the struct is a symbol of its own (above), the typedef
; a `type` on the line of its name (so that the struct does not nest in it).
(type_definition
  type: (_ name: (_) body: (_))
  declarator: [
    (type_identifier) @name
    (pointer_declarator declarator: (type_identifier) @name)
  ] @definition.type)

; Any other typedef: `typedef unsigned long size_type;`, `typedef struct node *node_ptr;`,
; `typedef int (*callback_t)(void *);`, `typedef void *(*alloc_fn)(size_t);`,
; `typedef int vec3[3];`.
(type_definition
  type: [
    (primitive_type) (sized_type_specifier) (type_identifier) (macro_type_specifier)
    (struct_specifier !body) (union_specifier !body) (enum_specifier !body)
  ]
  declarator: [
    (type_identifier) @name
    (_ declarator: (type_identifier) @name)
    (_ declarator: (_ declarator: (type_identifier) @name))
    (function_declarator
      declarator: (parenthesized_declarator (_ declarator: (type_identifier) @name)))
    (_ declarator: (function_declarator
      declarator: (parenthesized_declarator (_ declarator: (type_identifier) @name))))
  ]) @definition.type

; Macros: `#define MAX 10`, `#define SQUARE(x) ((x) * (x))`.
(preproc_def name: (identifier) @name value: (_)) @definition.macro
(preproc_function_def name: (identifier) @name) @definition.macro

; File-level constants: `static const int table_size = 64;`, `const char *const names[] = {}`.
((declaration
  (type_qualifier) @_const
  declarator: (init_declarator
    declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (array_declarator declarator: (identifier) @name))
    ]) @definition.constant) @_declaration
  (#eq? @_const "const")
  (#parent-type? @_declaration "translation_unit"))

; Includes: `#include <stdio.h>` -> "stdio.h", `#include "util/list.h"` -> "util/list.h".
(preproc_include path: [(string_literal) (system_lib_string)] @import.module)
