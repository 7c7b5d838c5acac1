; Python tags.
; Definitions: every def / async def / class, at the line of its keyword (decorators are
; outside the node); a def directly in a class is a method. Module-level upper-case
; constants (also in a module-level `if` or `try`), type aliases (`type X = ...`,
; `X: TypeAlias = ...`) and type variables.
; Imports, wherever they are (also inside functions, `if TYPE_CHECKING:` and `try:` blocks).
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function

; Type aliases and type variables, in any case and anywhere (also under `if TYPE_CHECKING:`),
; before the constants (the first pattern wins): `Vector: TypeAlias = list[float]`,
; `T = TypeVar("T")`, `P = ParamSpec("P")`, `UserId = NewType("UserId", int)`.
((assignment left: (identifier) @name type: (type [(identifier) (attribute)] @_type))
  @definition.type
  (#match? @_type "^((typing|typing_extensions|t|te)[.])?TypeAlias$"))
((assignment
   left: (identifier) @name
   right: (call function: [(identifier) (attribute attribute: (identifier))] @_fn))
  @definition.type
  (#match? @_fn "(^|[.])(TypeVar|ParamSpec|TypeVarTuple|NewType|TypeAliasType)$"))

; Module-level constants written in upper case, also private: `MAX_SIZE = 10`,
; `TIMEOUT: Final = 5`, `_PATTERN = re.compile(...)`.
; Each upper-case name of `A, B = 1, 2` and `(A, B) = 1, 2` too.
(module
  (assignment left: (identifier) @name) @definition.constant
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))
(module
  (assignment left: [(pattern_list (identifier) @name) (tuple_pattern (identifier) @name)])
    @definition.constant
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

;
; The same inside a module-level `if`/`elif`/`else` or `try`/`except`/`else`/`finally`:
; `try: import ujson as json; HAS_UJSON = True except ImportError: HAS_UJSON = False` gives one
; constant per branch. One level deep: deeper blocks are rare, and each level costs a pattern.
([(if_statement consequence: (block (assignment left: (identifier) @name) @definition.constant))
  (if_statement
    alternative: (elif_clause consequence: (block (assignment left: (identifier) @name) @definition.constant)))
  (if_statement
    alternative: (else_clause body: (block (assignment left: (identifier) @name) @definition.constant)))
  (try_statement body: (block (assignment left: (identifier) @name) @definition.constant))
  (try_statement (except_clause (block (assignment left: (identifier) @name) @definition.constant)))
  (try_statement (else_clause body: (block (assignment left: (identifier) @name) @definition.constant)))
  (try_statement (finally_clause (block (assignment left: (identifier) @name) @definition.constant)))]
  @_branch
  (#match? @name "^_*[A-Z][A-Z0-9_]*$")
  (#parent-type? @_branch "module"))

; `type Vector = list[float]`, `type Pair[T] = tuple[T, T]`.
(type_alias_statement left: (type (identifier) @name)) @definition.type
(type_alias_statement left: (type (generic_type (identifier) @name))) @definition.type

; Imports: `import a.b` -> "a.b", `import a as b` -> "a", `from a.b import c` -> "a.b",
; `from . import b` -> ".", `from ..pkg import b` -> "..pkg", `from __future__ import x`.
(import_statement name: (dotted_name) @import.module)
(import_statement name: (aliased_import name: (dotted_name) @import.module))
(import_from_statement module_name: (_) @import.module)
(future_import_statement "__future__" @import.module)
