; C++ tags.
; Namespaces, classes, structs, unions, enums (also `enum class`), type aliases and typedefs,
; functions, methods (defined in the class, declared in the class, or defined out of line as
; `Foo::bar` or `ns::Foo::bar`), constructors, macros and namespace-level `const`/`constexpr`
; variables; `#include` paths and C++20 `import`s.
; Out-of-line definitions `void Foo::bar() {}` are methods named `bar` whose scope is `Foo`
; after the enclosing ones; `Foo::Foo()` is a constructor. A namespace-qualified free function
; `void ns::f() {}` is reported as a method too (the grammar cannot tell).
; Names qualified more than three times (`a::b::C::D::f`) are left out, and so are lambdas,
; fields and free function prototypes (declarations, not definitions); declarations inside a
; class body are kept (they make up the class). Conversions are named `operator T`.
; Compiling costs every worker time for each step that names a node type and has children
; (C++'s grammar is big): the wrappers in between are wildcards, `(_ name: ...)` for a
; `qualified_identifier` or `template_type`, `(_ (function_declarator ...) .)` for a pointer,
; reference or parentheses around a function declarator (as their last child, so not a
; macro call the grammar read as a declarator), and a parent is checked by `#parent-type?`
; (ours, see tags.py) rather than by a parent step. That halves the compile time and speeds
; up the matching.
; Where two patterns match one node, the earlier pattern wins (extraction keeps the first), so
; a general pattern may follow a narrower one instead of listing every other context.

(namespace_definition name: (namespace_identifier) @name) @definition.namespace
; C++17 `namespace a::b::c {}`: namespace `c` in scope `a.b` (@_qualified adds `a::b`).
(namespace_definition
  name: (nested_namespace_specifier
    [
      (namespace_identifier) @name
      (nested_namespace_specifier
        [(namespace_identifier) @name (nested_namespace_specifier (_) @name .)] .)
    ] .) @_qualified) @definition.namespace

; Classes, structs, unions with a body: `class Foo`, `struct hash<Foo>` (-> `hash`),
; `struct std::hash<Foo>` (-> `hash`).
(class_specifier name: (type_identifier) @name body: (_)) @definition.class
(class_specifier
  name: [(_ name: (type_identifier) @name) (_ name: (_ name: (type_identifier) @name))]
  body: (_)) @definition.class
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(struct_specifier
  name: [(_ name: (type_identifier) @name) (_ name: (_ name: (type_identifier) @name))]
  body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.union
; A macro between `class` and the name that is not in capitals (those are blanked before
; parsing, languages.py), `class export_api Foo {`: the grammar reads a function returning
; `class export_api`, with the base list in an ERROR; the name is the identifier after it.
(function_definition
  type: (_ "class") . [(ERROR . (identifier) @name) (identifier) @name]) @definition.class
(function_definition
  type: (_ "struct") . [(ERROR . (identifier) @name) (identifier) @name]) @definition.struct
; `ABSL_NAMESPACE_BEGIN namespace inner {`: a macro line before a namespace makes it a
; function definition returning the macro, with `namespace` or the name in an ERROR.
((function_definition
  (ERROR . (identifier) @_keyword .) declarator: (identifier) @name) @definition.namespace
  (#eq? @_keyword "namespace"))
((function_definition
  declarator: (identifier) @_keyword . (ERROR . (identifier) @name .)) @definition.namespace
  (#eq? @_keyword "namespace"))
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(enum_specifier name: (_ name: (type_identifier) @name) body: (_)) @definition.enum

; `using Index = std::size_t;`
(alias_declaration name: (type_identifier) @name) @definition.type

; `void Lock() ABSL_LOCKS_EXCLUDED(mu_) {}`, `void Foo::Bar() ABSL_NO_THREAD_SAFETY_ANALYSIS {`:
; a trailing attribute macro taken for the declarator leaves the real one in an ERROR.
(function_definition
  (ERROR [
    (function_declarator declarator: [(field_identifier) (identifier)] @name)
    (init_declarator declarator: (identifier) @name value: (argument_list))
  ])
  declarator: [(function_declarator) (identifier) (field_identifier)]) @definition.function
; `Mutex* mu() ABSL_LOCK_RETURNED(mu_) {`: the same inside a pointer or reference declarator.
(function_definition
  declarator: (_
    (ERROR (function_declarator declarator: [(field_identifier) (identifier)] @name))
    declarator: (function_declarator))) @definition.function
(function_definition
  (ERROR [
    (function_declarator declarator: (_ scope: (_) name: (identifier) @name))
    (init_declarator declarator: (_ scope: (_) name: (identifier) @name) value: (argument_list))
  ])
  declarator: (identifier)) @definition.method
; `void Foo::Bar() ABSL_LOCKS_EXCLUDED(mu) {` out of a class: the signature becomes a
; declaration missing its `;`, and the macro (in capitals) a function without a type, holding
; the body. (In `int ABSL_SECTION(.text.hot) f() {` the macro is the declaration.)
(_
  (declaration
    declarator: [
      (function_declarator declarator: (identifier) @name)
      (init_declarator declarator: (identifier) @name value: (argument_list))
    ]
    (MISSING ";"))
  .
  (function_definition
    !type declarator: (function_declarator declarator: (identifier) @_macro)) @definition.function
  (#match? @_macro "^[A-Z][A-Z0-9_]*$"))
(_
  (declaration
    declarator: [
      (function_declarator declarator: (_ scope: (_) name: (identifier) @name))
      (init_declarator declarator: (_ scope: (_) name: (identifier) @name)
                       value: (argument_list))
    ]
    (MISSING ";"))
  .
  (function_definition
    !type declarator: (function_declarator declarator: (identifier) @_macro)) @definition.method
  (#match? @_macro "^[A-Z][A-Z0-9_]*$"))
; Functions defined in a namespace or a class body (where they become methods by nesting):
; `int f()`, `T* f()`, `T& f()`, `T** f()`, `~Foo()`, `operator[]()`, and specialisations,
; `template <> int f<X>()`.
(function_definition
  declarator: [
    (function_declarator
      declarator: [(field_identifier) (destructor_name) (operator_name)] @name)
    (function_declarator declarator: (template_function name: (identifier) @name))
    (_ (function_declarator
      declarator: [(field_identifier) (destructor_name) (operator_name) (identifier)] @name) .)
    (_ (_ (function_declarator
      declarator: [(field_identifier) (destructor_name) (operator_name) (identifier)] @name) .) .)
  ]) @definition.function
; No return type and a plain identifier: a constructor in a class body, defined or declared
; (`explicit Foo(int);`; a declared `~Foo();` is a method), else a function.
((function_definition
  !type
  declarator: (function_declarator declarator: (identifier) @name)) @definition.constructor
  (#parent-type? @definition.constructor "field_declaration_list"))
((declaration
  !type
  declarator: (function_declarator declarator: (identifier) @name)) @definition.constructor
  (#parent-type? @definition.constructor "field_declaration_list"))
((declaration
  !type
  declarator: (function_declarator declarator: (destructor_name) @name)) @definition.method
  (#parent-type? @definition.method "field_declaration_list"))
; The same under a template: `template <class T> Foo(const T& f) : f_(f) {}`.
((template_declaration
  [
    (function_definition !type declarator: (function_declarator declarator: (identifier) @name))
    (declaration !type declarator: (function_declarator declarator: (identifier) @name))
  ] @definition.constructor) @_template
  (#parent-type? @_template "field_declaration_list"))
; Without a return type and named in capitals: a macro call with a body, `TEST(Suite, Name) {`,
; named by the whole call (`TEST(Suite, Name)`) since the macro's name alone says nothing;
; unless the call runs over statements (pybind11's `{ PYBIND11_OVERRIDE(int, A, f, ); }`, whose
; empty argument the grammar cannot read, then `int g() override {`): that is no name.
((function_definition
  !type
  declarator: (function_declarator declarator: (identifier) @_macro) @name) @definition.function
  (#match? @_macro "^[A-Z][A-Z0-9_]*$")
  (#not-match? @name "[;{}]"))
; Anywhere else (a namespace, a template, `extern "C"`, a preprocessor branch, an ERROR node
; left by a macro the grammar cannot know): a function; but not the `if (x) {...}` or
; `while (x) {...}` after a statement macro without its `;` (`Py_BEGIN_ALLOW_THREADS`), which
; the grammar reads as a function returning the macro.
((function_definition
  declarator: (function_declarator declarator: (identifier) @name)) @definition.function
  (#not-match? @name "^(if|while|for|switch)$"))

; Out-of-line definitions: `Foo::Foo()` and `Foo<T>::Foo()` are constructors; `Foo::bar()`,
; `ns::Foo::bar()`, `Foo::~Foo()` and `Foo::operator==()` methods. @_qualified: the
; `ns::Foo::bar` whose `ns::Foo` adds to the scope.
(function_definition
  declarator: (function_declarator
    declarator: [
      (_
        scope: [(namespace_identifier) @_scope (_ name: (type_identifier) @_scope)]
        name: (identifier) @name)
      (_
        name: (_
          scope: [(namespace_identifier) @_scope (_ name: (type_identifier) @_scope)]
          name: (identifier) @name))
      (_
        name: (_
          name: (_
            scope: [(namespace_identifier) @_scope (_ name: (type_identifier) @_scope)]
            name: (identifier) @name)))
    ] @_qualified)
  (#eq? @_scope @name)) @definition.constructor
(function_definition
  declarator: (function_declarator
    declarator: [
      (_
        scope: [(namespace_identifier) @_scope (_ name: (type_identifier) @_scope)]
        name: (identifier) @name)
      (_
        name: (_
          scope: [(namespace_identifier) @_scope (_ name: (type_identifier) @_scope)]
          name: (identifier) @name))
      (_
        name: (_
          name: (_
            scope: [(namespace_identifier) @_scope (_ name: (type_identifier) @_scope)]
            name: (identifier) @name)))
    ] @_qualified)
  (#not-eq? @_scope @name)) @definition.method
(function_definition
  declarator: [
    (function_declarator
      declarator: [
        (_ scope: (_) name: [(destructor_name) (operator_name)] @name)
        (_ scope: (_) name: (_ name: [(destructor_name) (operator_name)] @name))
      ] @_qualified)
    (_ (function_declarator
      declarator: [
        (_ scope: (_) name: [(identifier) (destructor_name) (operator_name)] @name)
        (_ scope: (_) name: (_ name: [(identifier) (destructor_name) (operator_name)] @name))
      ] @_qualified) .)
    (_ (_ (function_declarator
      declarator: [
        (_ scope: (_) name: [(identifier) (destructor_name) (operator_name)] @name)
        (_ scope: (_) name: (_ name: [(identifier) (destructor_name) (operator_name)] @name))
      ] @_qualified) .) .)
  ]) @definition.method

; Conversion operators, named `operator bool`: `explicit operator bool() const {}` and
; `operator int() const;` in a class body, `A::operator bool() const {}` out of it.
(function_definition declarator: (operator_cast) @name) @definition.function
(field_declaration_list (declaration declarator: (operator_cast) @name) @definition.method)
(function_definition
  declarator: (qualified_identifier scope: (_) name: (operator_cast) @name) @_qualified)
  @definition.method

; Members declared in a class body: `void push(const T&);`, `T* get();`, `T& at(size_t);`,
; `virtual ~Foo();`, `explicit Foo(int);`.
; A name in capitals is an attribute macro after a field (`T head ABSL_GUARDED_BY(mu);`).
((field_declaration
  declarator: [
    (function_declarator declarator: [(field_identifier) (operator_name) (destructor_name)] @name)
    (_ (function_declarator
      declarator: [(field_identifier) (operator_name) (destructor_name)] @name) .)
  ]) @definition.method
  (#not-match? @name "^[A-Z][A-Z0-9_]*$"))

; Namespace-level constants: `constexpr int kLimit = 10;`, `const char *const kName = "x";`.
((declaration
  (type_qualifier) @_const
  declarator: (init_declarator
    declarator: [
      (identifier) @name
      (array_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (identifier) @name)
    ]) @definition.constant)
  @_declaration
  (#any-of? @_const "const" "constexpr")
  (#parent-type? @_declaration "translation_unit" "declaration_list"))

; `typedef struct {...} point_t;`: an anonymous struct, union or enum named by its typedef.
(type_definition
  type: [(struct_specifier !name body: (_)) (class_specifier !name body: (_))]
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

; Any other typedef: `typedef unsigned long size_type;`, `typedef std::vector<int> ints;`,
; `typedef int (*callback_t)(void *);`, `typedef void *(*alloc_fn)(size_t);`.
(type_definition
  type: [
    (primitive_type) (sized_type_specifier) (type_identifier) (qualified_identifier)
    (template_type) (decltype) (dependent_type) (placeholder_type_specifier)
    (struct_specifier !body) (class_specifier !body) (union_specifier !body)
    (enum_specifier !body)
  ]
  declarator: [
    (type_identifier) @name
    (_ declarator: (type_identifier) @name)
    (reference_declarator (type_identifier) @name)
    (_ declarator: (_ declarator: (type_identifier) @name))
    (function_declarator
      declarator: (parenthesized_declarator (_ declarator: (type_identifier) @name)))
    (_ declarator: (function_declarator
      declarator: (parenthesized_declarator (_ declarator: (type_identifier) @name))))
  ]) @definition.type

; Macros: `#define MAX 10`, `#define SQUARE(x) ((x) * (x))`; include guards (no value) are
; left out.
(preproc_def name: (identifier) @name value: (_)) @definition.macro
(preproc_function_def name: (identifier) @name) @definition.macro

; Includes: `#include <vector>` -> "vector", `#include "a/b.hpp"` -> "a/b.hpp";
; C++20 `import std;` -> "std", `import <vector>;` -> "vector" (partitions `import :p;` are
; left out).
(preproc_include path: [(string_literal) (system_lib_string)] @import.module)
(import_declaration name: (module_name) @import.module)
(import_declaration header: [(string_literal) (system_lib_string)] @import.module)
