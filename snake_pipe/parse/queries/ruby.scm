; Ruby tags.
; Modules, classes (`class A::B` -> `B`), constructors (`initialize`), methods (`def` in a
; class, module, block or `class << self`, and `def self.x`), top-level `def`s as functions,
; constants, `attr_reader`/`attr_writer`/`attr_accessor` names in a class or module body
; (properties, one per name, at the line of its symbol);
; `require`, `require_relative`, `load` and `autoload` paths.
; Not captured: `define_method`, `Struct.new` classes.
; Where two patterns match one node (a `def`), the earlier pattern wins. A parent is checked by
; `#parent-type?` (ours, see tags.py), which costs less than a parent step to compile.

(module name: (constant) @name) @definition.module
(module name: (_ name: (constant) @name) @_qualified) @definition.module
(class name: (constant) @name) @definition.class
(class name: (_ name: (constant) @name) @_qualified) @definition.class

; `def` at the top of a file is a function; `initialize` in a class or module body a
; constructor; anywhere else (class, module, `class << self`, a block such as `included do`,
; a conditional, `private def helper; end`) a method.
((method name: (_) @name) @definition.function (#parent-type? @definition.function "program"))
((method name: (identifier) @name) @definition.constructor
  (#eq? @name "initialize")
  (#parent-type? @definition.constructor "body_statement"))
(method name: (_) @name) @definition.method
(singleton_method name: (_) @name) @definition.method

; `VERSION = "1.0"` in a file, class or module body, also under a condition (`X = 1 unless
; defined?(X)`) or in a `begin`, and each name of `MAJOR, MINOR, *REST = ...` (a method body
; cannot assign a constant).
; A heredoc's body follows the assignment that opens it: the constant ends with it (@_end).
(body_statement
  (assignment left: (constant) @name) @definition.constant . (heredoc_body) @_end)
(program (assignment left: (constant) @name) @definition.constant . (heredoc_body) @_end)
(assignment left: (constant) @name) @definition.constant
(assignment
  left: (left_assignment_list [(constant) @name (rest_assignment (constant) @name)]))
  @definition.constant

; `attr_accessor :name, :email`: properties `name` and `email`.
((call
  !receiver
  method: (identifier) @_method
  arguments: (argument_list (simple_symbol) @name @definition.property)) @_call
  (#any-of? @_method "attr_reader" "attr_writer" "attr_accessor")
  (#parent-type? @_call "body_statement"))

; Imports: `require "json"`, `require_relative "../lib/x"`, `load "x.rb"`,
; `autoload :Foo, "foo"` (calls without a receiver, string arguments only).
(call
  !receiver
  method: (identifier) @_method
  arguments: [(_ . (string) @import.module) (_ . (simple_symbol) . (string) @import.module)]
  (#any-of? @_method "require" "require_relative" "load" "autoload"))
