; PHP tags.
; Namespaces, classes, interfaces, traits, enums, functions, methods (`__construct` is a
; constructor) and constants (`const` at file level and in classes); `use` imports and
; `require`/`include` paths.
; Not captured: properties, closures and arrow functions, `define()` constants.
; Alternatives are mutually exclusive: which of two matches on one node comes first is not
; guaranteed.

(namespace_definition name: (namespace_name) @name) @definition.namespace

(class_declaration name: (name) @name) @definition.class
(interface_declaration name: (name) @name) @definition.interface
(trait_declaration name: (name) @name) @definition.trait
(enum_declaration name: (name) @name) @definition.enum

(function_definition name: (name) @name) @definition.function
(method_declaration
  name: (name) @name
  (#eq? @name "__construct")) @definition.constructor
(method_declaration
  name: (name) @name
  (#not-eq? @name "__construct")) @definition.method

; `const LIMIT = 20;` and `public const PER_PAGE = 15;`.
(const_declaration (const_element (name) @name) @definition.constant)

; Imports: `use App\Models\User;`, `use App\Models\User as U;`, `use function A\f;`
; -> the qualified name; `use A\B\{C, D\E};` -> "A\B" (the prefix of the group).
; Trait `use` inside a class body is no import.
(namespace_use_declaration
  (namespace_use_clause . [(qualified_name) (name)] @import.module))
(namespace_use_declaration (namespace_name) @import.module body: (namespace_use_group))

; `require "x.php"`, `include_once("x.php")`, and `require __DIR__ . "/x.php"` or
; `require_once(DOKU_INC . "inc/x.php")` -> "/x.php", "inc/x.php".
(require_expression [(string) (encapsed_string)] @import.module)
(require_once_expression [(string) (encapsed_string)] @import.module)
(include_expression [(string) (encapsed_string)] @import.module)
(include_once_expression [(string) (encapsed_string)] @import.module)
(require_expression
  (parenthesized_expression [
    [(string) (encapsed_string)] @import.module
    (_ right: [(string) (encapsed_string)] @import.module)
  ]))
(require_once_expression
  (parenthesized_expression [
    [(string) (encapsed_string)] @import.module
    (_ right: [(string) (encapsed_string)] @import.module)
  ]))
(include_expression
  (parenthesized_expression [
    [(string) (encapsed_string)] @import.module
    (_ right: [(string) (encapsed_string)] @import.module)
  ]))
(include_once_expression
  (parenthesized_expression [
    [(string) (encapsed_string)] @import.module
    (_ right: [(string) (encapsed_string)] @import.module)
  ]))
(require_expression
  (_ right: [(string) (encapsed_string)] @import.module))
(require_once_expression
  (_ right: [(string) (encapsed_string)] @import.module))
(include_expression
  (_ right: [(string) (encapsed_string)] @import.module))
(include_once_expression
  (_ right: [(string) (encapsed_string)] @import.module))
