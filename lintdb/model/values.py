"""What names and attributes hold: assignments in the function or module, class attributes (`self.x`
set in a method, class-level defaults such as pydantic `BaseSettings` fields), attributes assigned
anywhere in the module (`app.state.pool = ...`), the items of a literal tuple a `for` iterates,
`os.environ.get` / `os.getenv` defaults, and dicts (`{...}`, `dict(...)`, `**OPTS`)."""

from __future__ import annotations

import libcst as cst

from lintdb.cst_helpers import call_arg, dotted, string_value
from lintdb.model.mutations import precedes, returned_at, set_items
from lintdb.model.names import Names
from lintdb.model.tree import Tree
from lintdb.sqltext import MAX_DEPTH, SqlString, sql_string

ENVIRON_GETTERS = frozenset({"os.environ.get", "os.getenv"})
PYDANTIC_FIELD = frozenset({"pydantic.Field", "pydantic.fields.Field"})
_LITERAL_SEQUENCES = (cst.Tuple, cst.List, cst.Set)
MAX_TEXTS = 64


class Values:
    """Value lookups over one module."""

    def __init__(self, tree: Tree, names: Names) -> None:
        self.tree = tree
        self.names = names

    def values_of(self, expr: cst.BaseExpression) -> list[cst.BaseExpression]:
        """Every value ``expr`` may hold: one for a name assigned once, each item of a literal tuple a `for`
        iterates over, none when it is assigned several times, a parameter, or unknown."""
        if isinstance(expr, cst.Name):
            binders = self.names.bindings(expr)
            if len(binders) != 1:
                return []
            return self._bound(binders[0], expr.value)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr)
        if isinstance(expr, cst.Call) and self.names.qualified_names(expr.func) & ENVIRON_GETTERS:
            default = call_arg(expr, 1, "default")
            return [default.value] if default is not None else []
        return []

    def assigned(self, name: cst.Name) -> list[cst.BaseExpression]:
        """The values every `name = value` in the scope ``name`` is used in assigns, in source order."""
        found = []
        for binder in self.names.bindings(name):
            if isinstance(binder, (cst.Assign, cst.AnnAssign)) and binder.value is not None:
                found.append(binder.value)
        return found

    def value_of(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The one value ``expr`` holds, else None."""
        found = self.values_of(expr)
        return found[0] if len(found) == 1 else None

    def _bound(self, binder: cst.CSTNode, name: str) -> list[cst.BaseExpression]:
        if isinstance(binder, cst.Assign):
            if all(isinstance(t.target, cst.Name) for t in binder.targets):
                return [binder.value]
            return self._unpacked(binder, name)
        if isinstance(binder, cst.AnnAssign) and binder.value is not None and isinstance(binder.target, cst.Name):
            return [binder.value]
        if isinstance(binder, cst.For) and isinstance(binder.target, cst.Name):
            items = binder.iter
            if isinstance(items, cst.Name):
                items = self.value_of(items) or items
            if isinstance(items, _LITERAL_SEQUENCES) and not any(
                isinstance(e, cst.StarredElement) for e in items.elements
            ):
                return [e.value for e in items.elements]
        return []

    def _arguments(self, param: cst.Param) -> list[cst.BaseExpression]:
        """What a parameter of a module-level function receives: the argument of every call of it in the
        module (a migration's `_drop_column(table)` helper), none when one call does not pass it plainly."""
        parameters = self.tree.parent(param)
        function = self.tree.parent(parameters) if parameters is not None else None
        if not (isinstance(function, cst.FunctionDef) and self.tree.scope(function) is self.tree.root):
            return []
        positional = [*function.params.posonly_params, *function.params.params]
        index = positional.index(param) if param in positional else None
        found: list[cst.BaseExpression] = []
        for call in self.tree.calls:
            if not (isinstance(call.func, cst.Name) and call.func.value == function.name.value):
                continue
            if any(a.star for a in call.args):
                return []
            arg = call_arg(call, index, param.name.value)
            value = arg.value if arg is not None else (param.default if param.default is not None else None)
            if value is None:
                return []
            found.append(value)
        return found

    def _unpacked(self, binder: cst.Assign, name: str) -> list[cst.BaseExpression]:
        """`a, b = x, y` and `a, b = helper(...)` for a module function whose every return is a tuple."""
        target = binder.targets[0].target if len(binder.targets) == 1 else None
        if not isinstance(target, (cst.Tuple, cst.List)):
            return []
        names = [e.value.value if isinstance(e.value, cst.Name) else None for e in target.elements]
        if None in names or any(isinstance(e, cst.StarredElement) for e in target.elements) or name not in names:
            return []
        position, arity, value = names.index(name), len(names), binder.value
        if isinstance(value, cst.Tuple) and len(value.elements) == arity:
            element = value.elements[position]
            return [] if isinstance(element, cst.StarredElement) else [element.value]
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
            functions = self.names.bindings(value.func)
            if (
                len(functions) == 1
                and isinstance(functions[0], cst.FunctionDef)
                and self.tree.scope(functions[0]) is self.tree.root
            ):
                return returned_at(functions[0], position, arity)
        return []

    def _attribute(self, expr: cst.Attribute) -> list[cst.BaseExpression]:
        """`self.x` (set in a method of the class, or a class-level default), `Settings().x` / `settings.x`
        for a class of this module, and `a.b.c` assigned once anywhere in the module."""
        owner = self._class_of(expr.value)
        if owner is not None:
            for cls in self._lineage(owner):
                assigned = self.tree.attribute_values.get(f"{cls.name.value}.{expr.attr.value}", [])
                if assigned:
                    return assigned if len(assigned) == 1 else []
                default = [self._field_default(d) for d in self._class_default(cls, expr.attr.value)]
                if default:
                    return default
            return []
        path = dotted(expr)
        assigned = self.tree.attribute_values.get(path, []) if path else []
        return assigned if len(assigned) == 1 else []

    def _field_default(self, value: cst.BaseExpression) -> cst.BaseExpression:
        """The default of a pydantic `Field("...")` / `Field(default="...")`, else the value itself."""
        if isinstance(value, cst.Call) and self.names.qualified_names(value.func) & PYDANTIC_FIELD:
            default = call_arg(value, 0, "default")
            if default is not None:
                return default.value
        return value

    def _lineage(self, owner: cst.ClassDef) -> list[cst.ClassDef]:
        """The class, then its base classes defined in this module (depth first, each once): `self.con`
        in a test may be set by the base class's setup."""
        found: list[cst.ClassDef] = []
        stack = [owner]
        while stack and len(found) <= MAX_DEPTH:
            cls = stack.pop()
            if any(cls is seen for seen in found):
                continue
            found.append(cls)
            bases = []
            for base in cls.bases:
                binders = self.names.bindings(base.value) if isinstance(base.value, cst.Name) else []
                if len(binders) == 1 and isinstance(binders[0], cst.ClassDef):
                    bases.append(binders[0])
            stack.extend(reversed(bases))
        return found

    def _class_of(self, expr: cst.BaseExpression) -> cst.ClassDef | None:
        """The module's class an instance expression belongs to: `self` in a method, `Settings()`, or a
        name assigned `Settings()`."""
        if isinstance(expr, cst.Name):
            binders = self.names.bindings(expr)
            if len(binders) == 1 and isinstance(binders[0], cst.Param):
                return self._method_class(binders[0])
            value = self.value_of(expr)
            return self._class_of(value) if isinstance(value, cst.Call) else None
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name):
            binders = self.names.bindings(expr.func)
            if len(binders) == 1 and isinstance(binders[0], cst.ClassDef):
                return binders[0]
        return None

    def _method_class(self, param: cst.Param) -> cst.ClassDef | None:
        function = self.tree.parent(self.tree.parent(param) or param)
        if not isinstance(function, cst.FunctionDef) or not function.params.params:
            return None
        if function.params.params[0] is not param:
            return None
        owner = self.tree.scope(function).node
        return owner if isinstance(owner, cst.ClassDef) else None

    @staticmethod
    def _class_default(owner: cst.ClassDef, name: str) -> list[cst.BaseExpression]:
        body = owner.body.body if isinstance(owner.body, cst.IndentedBlock) else ()
        found: list[cst.BaseExpression] = []
        for statement in body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                    if small.target.value == name:
                        found.append(small.value)
                elif isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
                ):
                    found.append(small.value)
        return found if len(found) == 1 else []

    def resolve(self, expr: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression | None:
        """One step of following ``expr`` to what it holds, for the string and dict readers."""
        return self.value_of(expr) if depth <= MAX_DEPTH else None

    def string_of(self, expr: cst.BaseExpression) -> SqlString | None:
        """The text of a string expression, following names, attributes, `+`, `%`, `.format` and
        environment defaults; f-string holes and format placeholders become sqltext.HOLE."""
        return sql_string(expr, self.resolve)

    def text_of(self, expr: cst.BaseExpression | None) -> str | None:
        """The text a string expression holds (f-string holes as sqltext.HOLE), or None."""
        if expr is None:
            return None
        plain = string_value(expr)
        if plain is not None:
            return plain
        found = self.string_of(expr)
        return found.text if found is not None else None

    def texts_of(self, expr: cst.BaseExpression, depth: int = 0) -> list[str]:
        """Every plain text a string expression may hold: a literal, a name bound to one or to each item of
        a literal tuple a `for` iterates, a parameter of a module function (what each call passes), an
        f-string whose holes are such names (each combination, at most MAX_TEXTS); empty when any part is
        not known."""
        plain = string_value(expr)
        if plain is not None:
            return [plain]
        if depth > MAX_DEPTH:
            return []
        if isinstance(expr, (cst.Name, cst.Attribute)):
            binders = self.names.bindings(expr) if isinstance(expr, cst.Name) else []
            values = self._arguments(binders[0]) if len(binders) == 1 and isinstance(binders[0], cst.Param) else []
            held = [self.texts_of(value, depth + 1) for value in values or self.values_of(expr)]
            return [t for each in held for t in each][:MAX_TEXTS] if all(held) else []
        if not isinstance(expr, cst.FormattedString):
            return []
        texts = [""]
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces = [part.value]
            elif isinstance(part, cst.FormattedStringExpression) and part.conversion is None and not part.format_spec:
                pieces = self.texts_of(part.expression, depth + 1)
            else:
                pieces = []
            if not pieces:
                return []
            texts = [t + p for t in texts for p in pieces][:MAX_TEXTS]
        return texts

    def dict_of(self, expr: cst.BaseExpression | None, depth: int = 0) -> dict[str, cst.BaseExpression] | None:
        """The string-keyed items of `{...}`, `dict(key=...)` or a name holding one (`**` merged), or None
        when it is not such a dict or an item is not known."""
        if expr is None or depth > MAX_DEPTH:
            return None
        if isinstance(expr, cst.Name):
            return self._named_dict(expr, depth)
        if isinstance(expr, cst.Attribute):
            return self.dict_of(self.value_of(expr), depth + 1)
        found: dict[str, cst.BaseExpression] = {}
        if isinstance(expr, cst.Dict):
            for element in expr.elements:
                if not isinstance(element, cst.DictElement):
                    inner = self.dict_of(element.value, depth + 1)
                    if inner is None:
                        return None
                    found.update(inner)
                    continue
                key = string_value(element.key)
                if key is None:
                    return None
                found[key] = element.value
            return found
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "dict":
            if self.names.bindings(expr.func):
                return None
            for arg in expr.args:
                if arg.star == "**":
                    inner = self.dict_of(arg.value, depth + 1)
                    if inner is None:
                        return None
                    found.update(inner)
                elif arg.keyword is not None:
                    found[arg.keyword.value] = arg.value
                else:
                    return None
            return found
        return None

    def _named_dict(self, name: cst.Name, depth: int) -> dict[str, cst.BaseExpression] | None:
        """The keys a dict name may hold where it is used: those of each value it may be bound to, then
        the `name["key"] = value` assignments of its scope before the use (None when something else in
        that scope may change its keys)."""
        found: dict[str, cst.BaseExpression] = {}
        values = self.values_of(name)
        for value in values:
            items = self.dict_of(value, depth + 1)
            if items is None:
                return None
            found.update({key: item for key, item in items.items() if key not in found})
        scope = self.names.binding_scope(name)
        if not values or scope is None:
            return None
        assigned = set_items(scope.node, name.value)
        if assigned.unknown:
            return None
        same_scope = self.tree.scope(name) is scope
        for key, value, statement in assigned.items:
            if not same_scope or precedes(self.tree, statement, name):
                found[key] = value
        return found

    def keyword(self, call: cst.Call, name: str) -> cst.BaseExpression | None:
        """A call's keyword argument ``name``: given directly, or in a `**OPTS` / `**dict(...)` it spreads."""
        direct = call_arg(call, None, name)
        if direct is not None:
            return direct.value
        for arg in call.args:
            if arg.star == "**":
                items = self.dict_of(arg.value)
                if items is not None and name in items:
                    return items[name]
        return None
