; Swift tags.
; Classes, actors (as classes), structs, enums, protocols (as interfaces), functions (methods
; in types and extensions; operators too, `static func ==` -> `==`), protocol requirements,
; initializers (named `init`), type aliases, associated types, top-level `let` and
; `static let` constants; `extension Foo` names the scope `Foo` of its members without being
; a symbol; imports.
; Not captured: subscripts, deinit, stored and computed properties.
; A definition starts at its first line after its attributes (tags.py skips them).

(class_declaration declaration_kind: "class" name: (type_identifier) @name) @definition.class
(class_declaration declaration_kind: "actor" name: (type_identifier) @name) @definition.class
(class_declaration declaration_kind: "struct" name: (type_identifier) @name) @definition.struct
(class_declaration declaration_kind: "enum" name: (type_identifier) @name) @definition.enum
(class_declaration declaration_kind: "extension" name: (user_type) @name) @scope.impl
(protocol_declaration name: (type_identifier) @name) @definition.interface

; The name right after `func`: an identifier or an operator (`static func ==`); the return
; type is a `name:` field too, hence the anchor.
(function_declaration "func" . name: _ @name) @definition.function
(protocol_function_declaration "func" . name: _ @name) @definition.method
(init_declaration "init" @name) @definition.constructor

(typealias_declaration name: (type_identifier) @name) @definition.type
(associatedtype_declaration name: (type_identifier) @name) @definition.type

; `let maxItems = 10` at top level, `static let shared = Foo()` in a type.
(source_file
  (property_declaration
    (value_binding_pattern mutability: "let")
    name: (pattern bound_identifier: (simple_identifier) @name)) @definition.constant)
(class_body
  (property_declaration
    (modifiers (property_modifier) @_static)
    (value_binding_pattern mutability: "let")
    name: (pattern bound_identifier: (simple_identifier) @name)) @definition.constant
  (#eq? @_static "static"))

; Imports: `import Foundation`, `@testable import App`, `import UIKit.UIView`,
; `import struct Swift.Array` -> "Swift.Array".
(import_declaration (identifier) @import.module)
