; Ruby tags.
; Modules, classes (`class A::B` -> `B`), constructors (`initialize`), methods (`def` in a
; class, module, block or `class << self`, and `def self.x`), top-level `def`s as functions,
; constants;
; `require`, `require_relative`, `load` and `autoload` paths.
; Not captured: `attr_*` accessors, `define_method`, `Struct.new` classes.
; Alternatives are mutually exclusive: which of two matches on one node comes first is not
; guaranteed.

(module name: (constant) @name) @definition.module
(module name: (scope_resolution name: (constant) @name)) @definition.module
(class name: (constant) @name) @definition.class
(class name: (scope_resolution name: (constant) @name)) @definition.class

; `def` at the top of a file is a function; anywhere else (class, module, `class << self`,
; a block such as `included do`, a conditional) a method.
(program (method name: (_) @name) @definition.function)
(body_statement
  (method name: (identifier) @name) @definition.constructor
  (#eq? @name "initialize"))
(body_statement
  (method name: (_) @name) @definition.method
  (#not-eq? @name "initialize"))
(block_body (method name: (_) @name) @definition.method)
(then (method name: (_) @name) @definition.method)
(else (method name: (_) @name) @definition.method)
(begin (method name: (_) @name) @definition.method)
(if_modifier (method name: (_) @name) @definition.method)
(unless_modifier (method name: (_) @name) @definition.method)
; `private def helper; end`, `memoize def total; end`.
(argument_list (method name: (_) @name) @definition.method)
(singleton_method name: (_) @name) @definition.method

; `VERSION = "1.0"` in a file, class or module body.
(program (assignment left: (constant) @name) @definition.constant)
(body_statement (assignment left: (constant) @name) @definition.constant)

; Imports: `require "json"`, `require_relative "../lib/x"`, `load "x.rb"`,
; `autoload :Foo, "foo"` (calls without a receiver, string arguments only).
(call
  !receiver
  method: (identifier) @_method
  arguments: (argument_list . (string) @import.module)
  (#any-of? @_method "require" "require_relative" "load"))
(call
  !receiver
  method: (identifier) @_method
  arguments: (argument_list . (simple_symbol) . (string) @import.module)
  (#eq? @_method "autoload"))
