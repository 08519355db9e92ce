/* The dataset form's 信息项 (information items): 上移 / 下移 buttons on each item.
 *
 * Scheming's repeating-subfields module adds and removes items; the order of the items is the
 * order of their field names (info_items-0-name, info_items-1-name, ...), so a move swaps the
 * two panels and numbers all items again.
 */
ckan.module('yantai-info-items', function ($) {
  return {
    options: {up: 'Up', down: 'Down', field: 'info_items', label: ''},

    initialize: function () {
      $.proxyAll(this, /_on/);
      this.el.on('click', 'button[data-move]', this._onMove);
      this.el.on('scheming.subfield-group-init', this._onAdded);
      this._addButtons();
    },

    _groups: function () {
      return this.el.find('.scheming-repeating-subfields-group > .scheming-subfield-group');
    },

    _addButtons: function () {
      var options = this.options;
      this._groups().each(function () {
        var header = $(this).find('.panel-heading').first();
        if (header.find('button[data-move]').length) {
          return;
        }
        var buttons = $('<span class="yantai-item-order btn-group btn-group-sm"></span>');
        buttons.append($('<button type="button" class="btn btn-default" data-move="up"></button>')
          .text(options.up).attr('aria-label', options.up));
        buttons.append($('<button type="button" class="btn btn-default" data-move="down"></button>')
          .text(options.down).attr('aria-label', options.down));
        header.append(buttons);
      });
    },

    _onAdded: function () {
      this._addButtons();
      this._renumber();
    },

    _onMove: function (event) {
      event.preventDefault();
      var button = $(event.currentTarget);
      var group = button.closest('.scheming-subfield-group');
      if (button.data('move') === 'up') {
        group.prev('.scheming-subfield-group').before(group);
      } else {
        group.next('.scheming-subfield-group').after(group);
      }
      this._renumber();
      button.focus();
    },

    /* Field names, ids and labels follow the position of each item. */
    _renumber: function () {
      var field = this.options.field;
      var label = this.options.label;
      var pattern = new RegExp('^(field-)?' + field + '-\\d+-');
      this._groups().each(function (position) {
        var group = $(this);
        group.attr('data-group-index', position).data('groupIndex', position);
        group.find('[name], [id], label[for]').each(function () {
          var element = $(this);
          $.each(['name', 'id', 'for'], function (_, attribute) {
            var value = element.attr(attribute);
            if (value && pattern.test(value)) {
              element.attr(attribute, value.replace(pattern, function (match, prefix) {
                return (prefix || '') + field + '-' + position + '-';
              }));
            }
          });
        });
        group.find('.panel-heading').first().contents().filter(function () {
          return this.nodeType === 3 && $.trim(this.nodeValue);
        }).first().each(function () {
          this.nodeValue = ' ' + label + ' ' + (position + 1) + ' ';
        });
      });
    }
  };
});
