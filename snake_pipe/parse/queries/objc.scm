; Objective-C tags (.m, and .h headers with Objective-C constructs).
; Classes (`@interface Name : Super`), protocols, methods named by their selector
; (`initWithFrame:bridge:`, in the scope of their class, category or protocol), properties;
; a category (`@interface Name (Cat)`), a class extension (`@interface Name ()`) and an
; `@implementation` name the scope of their methods but define no class. `@import Module;`
; is an import. Then everything C has.

(class_interface . (identifier) @name category: (_)) @scope.class
(class_interface . (identifier) @name "(" ")") @scope.class
(class_interface . (identifier) @name) @definition.class
(class_implementation . (identifier) @name) @scope.class
(protocol_declaration . (identifier) @name) @definition.interface

; The selector is made from the node's keywords (tags.py).
(method_declaration) @definition.method @name
(method_definition) @definition.method @name

; `@property (nonatomic) NSString *name;`, also a block, `void (^onTap)(void)`.
(property_declaration
  (struct_declaration
    (struct_declarator [
      (identifier) @name
      (pointer_declarator declarator: (identifier) @name)
      (pointer_declarator declarator: (pointer_declarator declarator: (identifier) @name))
      (function_declarator declarator: (parenthesized_declarator
        (block_pointer_declarator declarator: (identifier) @name)))
    ]))) @definition.property

(module_import path: (_) @import.module)

; include: _c.scm
